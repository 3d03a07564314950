"""Tests for wheel_geometry: the differential drive read from a robot description."""

from pathlib import Path

import numpy as np
import pytest

from twin_bridge.description.robot_description import (
    default_robot_path,
    load_robot_description,
    parse_urdf,
)
from twin_bridge.description.wheel_geometry import (
    WheelGeometry,
    explain_wheel_geometry,
    wheel_geometry,
)

DATA = Path(__file__).resolve().parent / 'data'
TB3 = DATA / 'robots' / 'tb3_like_description' / 'urdf' / 'tb3_like.urdf'
NAV2 = DATA / 'robots' / 'nav2_like.urdf'
FOOTPRINT = DATA / 'robots' / 'footprint_bot.urdf'
ECO_TB3 = DATA / 'ecosystem' / 'robots' / 'turtlebot3_burger_style.urdf'
SAM_BOT = DATA / 'ecosystem' / 'robots' / 'sam_bot_description'


def _wheel(side: str, y: float, axis: str = '0 1 0', joint_rpy: str = '0 0 0',
           collision: str = '<origin rpy="1.5707963 0 0"/>'
                            '<geometry><cylinder radius="0.05" length="0.02"/></geometry>',
           joint_type: str = 'continuous', limit: str = '') -> str:
    return f"""
      <link name="{side}_wheel"><collision>{collision}</collision></link>
      <joint name="{side}_joint" type="{joint_type}"><parent link="base"/>
        <child link="{side}_wheel"/><origin xyz="0.01 {y} 0.05" rpy="{joint_rpy}"/>
        <axis xyz="{axis}"/>{limit}</joint>"""


def _robot(*wheels: str, extra: str = '') -> str:
    return f'<robot name="r"><link name="base"/>{"".join(wheels)}{extra}</robot>'


def test_package_robot():
    geometry = wheel_geometry(load_robot_description(default_robot_path()))
    assert geometry is not None
    assert geometry.joint_names == ('left_wheel_joint', 'right_wheel_joint')
    assert (geometry.radius, geometry.separation) == (pytest.approx(0.06), pytest.approx(0.32))
    assert (geometry.left_sign, geometry.right_sign, geometry.base_link) == (1, 1, 'base_link')


@pytest.mark.parametrize('path', [TB3, ECO_TB3])
def test_turtlebot3_style(path):
    if not path.is_file():
        pytest.skip(f'{path} not present')
    geometry, reason = explain_wheel_geometry(load_robot_description(path))
    assert geometry is not None, reason
    assert geometry.joint_names == ('wheel_left_joint', 'wheel_right_joint')
    # Joint frames rolled by -90 deg with axis z: the axle is +y, positive spins forward.
    assert (geometry.left_sign, geometry.right_sign) == (1.0, 1.0)
    assert geometry.radius == pytest.approx(0.033)
    assert geometry.separation == pytest.approx(0.16)
    assert (geometry.declared_radius, geometry.declared_separation) == (0.033, 0.16)
    assert geometry.base_link == 'base_footprint'


def test_nav2_like():
    geometry = wheel_geometry(load_robot_description(NAV2))
    assert geometry is not None
    assert geometry.joint_names == ('drivewhl_l_joint', 'drivewhl_r_joint')
    assert (geometry.radius, geometry.separation) == (pytest.approx(0.10), pytest.approx(0.36))


def test_sam_bot_xacro(tmp_path, monkeypatch):
    if not SAM_BOT.is_dir():
        pytest.skip('sam_bot test data not present')
    prefix = tmp_path / 'install'
    index = prefix / 'share' / 'ament_index' / 'resource_index' / 'packages'
    index.mkdir(parents=True)
    (index / 'sam_bot_description').write_text('', encoding='utf-8')
    (prefix / 'share' / 'sam_bot_description').symlink_to(SAM_BOT)
    monkeypatch.setenv('AMENT_PREFIX_PATH', str(prefix))
    robot = load_robot_description(SAM_BOT / 'urdf' / 'sam_bot.urdf.xacro', {'prefix': 'r1_'})
    geometry = wheel_geometry(robot)
    assert geometry is not None
    assert geometry.joint_names == ('r1_drivewhl_l_joint', 'r1_drivewhl_r_joint')
    # base_width / 2 + wheel_ygap = 0.18 each side; the plugin states 0.4.
    assert geometry.separation == pytest.approx(0.36)
    assert geometry.radius == pytest.approx(0.10)
    assert geometry.declared_separation == pytest.approx(0.4)


def test_not_a_diff_drive_has_a_reason():
    geometry, reason = explain_wheel_geometry(load_robot_description(FOOTPRINT))
    assert geometry is None and 'not a differential drive' in reason
    three = _robot(_wheel('a', 0.1), _wheel('b', -0.1), _wheel('c', 0.2))
    geometry, reason = explain_wheel_geometry(parse_urdf(three))
    assert geometry is None and '3 wheel joints' in reason


def test_left_right_by_y_and_flipped_axis():
    # Listed right first; the right wheel's axis points -y, so its positive spin is backward.
    urdf = _robot(_wheel('b', -0.15, axis='0 -1 0'), _wheel('a', 0.15))
    geometry = wheel_geometry(parse_urdf(urdf))
    assert geometry is not None
    assert geometry.joint_names == ('a_joint', 'b_joint')
    assert (geometry.left_sign, geometry.right_sign) == (1.0, -1.0)
    assert (geometry.radius, geometry.separation) == (pytest.approx(0.05), pytest.approx(0.3))
    # Both wheels forward at 1 m/s: the right joint turns negative.
    wl, wr = geometry.joint_velocities(1.0, 0.0)
    assert (wl, wr) == (pytest.approx(20.0), pytest.approx(-20.0))
    assert geometry.twist(wl, wr) == (pytest.approx(1.0), pytest.approx(0.0))


def test_twist_round_trip_vectorised():
    geometry = WheelGeometry('l', 'r', radius=0.06, separation=0.32, right_sign=-1.0)
    v, omega = np.array([0.0, 0.3, -0.2]), np.array([1.0, 0.5, 0.0])
    wl, wr = geometry.joint_velocities(v, omega)
    back = geometry.twist(wl, wr)
    np.testing.assert_allclose(back[0], v)
    np.testing.assert_allclose(back[1], omega)
    # Turning left in place: the right wheel moves forward (negative joint velocity here).
    wl, wr = geometry.joint_velocities(0.0, 1.0)
    assert wl == pytest.approx(-0.16 / 0.06) and wr == pytest.approx(-0.16 / 0.06)


def test_sphere_wheels_and_unlimited_revolute():
    sphere = '<geometry><sphere radius="0.04"/></geometry>'
    limit = '<limit lower="-10" upper="10" effort="1" velocity="1"/>'
    urdf = _robot(_wheel('a', 0.1, collision=sphere, joint_type='revolute', limit=limit),
                  _wheel('b', -0.1, collision=sphere, joint_type='revolute', limit=limit))
    geometry = wheel_geometry(parse_urdf(urdf))
    assert geometry is not None and geometry.radius == pytest.approx(0.04)
    limited = '<limit lower="-1" upper="1" effort="1" velocity="1"/>'
    urdf = _robot(_wheel('a', 0.1, joint_type='revolute', limit=limited),
                  _wheel('b', -0.1, joint_type='revolute', limit=limited))
    assert wheel_geometry(parse_urdf(urdf)) is None


def test_rejects_misaligned_cylinder_and_vertical_axle():
    upright = '<geometry><cylinder radius="0.05" length="0.02"/></geometry>'  # axis z, joint y
    geometry, reason = explain_wheel_geometry(parse_urdf(
        _robot(_wheel('a', 0.1, collision=upright), _wheel('b', -0.1, collision=upright))))
    assert geometry is None and 'coaxial' in reason
    geometry, reason = explain_wheel_geometry(parse_urdf(
        _robot(_wheel('a', 0.1, axis='0 0 1'), _wheel('b', -0.1, axis='0 0 1'))))
    assert geometry is None and 'axle' in reason


def test_invalid_geometry_values():
    with pytest.raises(ValueError):
        WheelGeometry('l', 'r', radius=0.0, separation=0.3)
    with pytest.raises(ValueError):
        WheelGeometry('l', 'r', radius=0.1, separation=0.3, left_sign=0.5)
