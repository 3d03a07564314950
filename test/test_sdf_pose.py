"""Tests for twin_bridge.description.sdf_pose: euler (radians, degrees), quaternions, bad values."""

import math
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from twin_bridge.core.transforms import quat_from_rpy
from twin_bridge.description.sdf_pose import parse_numbers, sdf_pose


def pose(xml: str):
    return sdf_pose(ET.fromstring(xml))


def test_euler_radians_degrees_and_quaternion_agree():
    expected = quat_from_rpy(0.1, -0.2, math.pi / 2)
    radians = pose(f'<pose>1 2 3 0.1 -0.2 {math.pi / 2}</pose>')
    degrees = pose(f'<pose degrees="true">1 2 3 {math.degrees(0.1)} {math.degrees(-0.2)} '
                   '90</pose>')
    x, y, z, w = 2 * expected  # not unit: normalised
    quat = pose(f'<pose rotation_format="quat_xyzw">1 2 3 {x} {y} {z} {w}</pose>')
    for p in (radians, degrees, quat):
        np.testing.assert_allclose(p.position, [1, 2, 3])
        np.testing.assert_allclose(p.orientation, expected, atol=1e-12)


def test_empty_pose_is_identity():
    p = pose('<pose relative_to="x"> </pose>')
    np.testing.assert_array_equal(p.position, np.zeros(3))
    np.testing.assert_array_equal(p.orientation, [0, 0, 0, 1])


@pytest.mark.parametrize('xml, message', [
    ('<pose>0 0 1</pose>', 'expected 6 numbers, got "0 0 1"'),
    ('<pose>0 0 a 0 0 0</pose>', 'bad number in'),
    ('<pose>0 0 inf 0 0 0</pose>', 'non-finite'),
    ('<pose rotation_format="quat_xyzw">0 0 0 0 0 0 0</pose>', 'zero quaternion'),
    ('<pose rotation_format="quat_xyzw">0 0 0 0 0 0</pose>', 'expected 7 numbers'),
    ('<pose rotation_format="axis_angle">0 0 0 0 0 0</pose>', 'unknown rotation_format'),
])
def test_bad_poses_say_what_is_wrong(xml, message):
    with pytest.raises(ValueError, match=message):
        pose(xml)


def test_parse_numbers_accepts_any_of_the_counts():
    assert parse_numbers(' 1 2 ', (2, 3)) == [1.0, 2.0]
    with pytest.raises(ValueError, match='expected 2 or 3 numbers'):
        parse_numbers('1', (2, 3))
