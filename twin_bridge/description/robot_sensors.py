"""Robot sensors: the planar lidar read from a URDF's ``<gazebo reference="LINK"><sensor>`` tag."""

from __future__ import annotations

import logging
import math
import xml.etree.ElementTree as ET

from twin_bridge.core.lidar import LidarSpec
from twin_bridge.core.transforms import Pose
from twin_bridge.description.sdf_pose import sdf_pose
from twin_bridge.errors import RobotDescriptionError

__all__ = ['LIDAR_SENSOR_TYPES', 'parse_lidar']

# The robot loader's logger (these warnings are part of loading a robot description).
LOGGER = logging.getLogger('twin_bridge.description.robot_description')

#: Gazebo sensor types read as a planar lidar (Harmonic ``gpu_lidar``/``lidar``, classic ``ray``).
LIDAR_SENSOR_TYPES = ('gpu_lidar', 'lidar', 'gpu_ray', 'ray')


def _text(elem: ET.Element | None, path: str) -> str | None:
    if elem is None:
        return None
    found = elem.find(path)
    if found is None or found.text is None or not found.text.strip():
        return None
    return found.text.strip()


def _number(elem: ET.Element | None, path: str, default: float, what: str) -> float:
    text = _text(elem, path)
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError as exc:
        raise RobotDescriptionError(f'{what} <{path}>: not a number: {text!r}') from exc
    if not math.isfinite(value):
        raise RobotDescriptionError(f'{what} <{path}>: not finite: {text!r}')
    return value


def parse_lidar(root: ET.Element, links: set[str], source: str) -> LidarSpec | None:
    """The first planar lidar found in a ``<gazebo reference="LINK"><sensor>`` tag; any further
    lidar is named in a warning (the twin simulates one)."""
    found = []
    for gazebo in root.findall('gazebo'):
        link = gazebo.get('reference')
        for sensor in gazebo.findall('sensor'):
            if sensor.get('type') not in LIDAR_SENSOR_TYPES:
                continue
            what = f'{source}: <gazebo reference="{link}"><sensor name="{sensor.get("name")}">'
            if not link or link not in links:
                raise RobotDescriptionError(f'{what}: reference is not a link of the robot')
            found.append((sensor, link, what))
    if not found:
        return None
    if len(found) > 1:
        LOGGER.warning('%s: robot has %d lidars; the twin simulates the first, "%s" on "%s", and '
                       'ignores %s', source, len(found), found[0][0].get('name'), found[0][1],
                       ', '.join(f'"{s.get("name")}" on "{link}"' for s, link, _ in found[1:]))
    return _lidar_from_sensor(*found[0])


def _lidar_from_sensor(sensor: ET.Element, link: str, what: str) -> LidarSpec:
    body = sensor.find('lidar')
    if body is None:
        body = sensor.find('ray')
    if body is None:
        raise RobotDescriptionError(f'{what}: has neither <lidar> nor <ray>')
    horizontal = body.find('scan/horizontal')
    if horizontal is None:
        raise RobotDescriptionError(f'{what}: missing <scan><horizontal>')
    samples_f = _number(horizontal, 'samples', math.nan, what)
    if math.isnan(samples_f):
        raise RobotDescriptionError(f'{what}: missing <scan><horizontal><samples>')
    resolution = _number(horizontal, 'resolution', 1.0, what)
    # Gazebo returns samples * resolution ranges (resolution > 1 interpolates more beams).
    samples = int(round(samples_f * resolution)) if resolution > 0 else int(samples_f)
    if samples < 1:
        raise RobotDescriptionError(f'{what}: <samples> must be at least 1')
    layers = _number(body.find('scan/vertical'), 'samples', 1.0, what)
    if layers > 1:
        LOGGER.warning('%s: %d vertical samples (<vertical>): the twin simulates only the '
                       'horizontal plane (vertical angle 0, one LaserScan)', what, layers)
    min_angle = _number(horizontal, 'min_angle', 0.0, what)
    max_angle = _number(horizontal, 'max_angle', 0.0, what)
    if max_angle < min_angle:
        raise RobotDescriptionError(f'{what}: max_angle {max_angle} < min_angle {min_angle}')
    range_el = body.find('range')
    range_min = _number(range_el, 'min', 0.0, what)
    range_max = _number(range_el, 'max', math.nan, what)
    if math.isnan(range_max):
        raise RobotDescriptionError(f'{what}: missing <range><max>')
    if not 0.0 <= range_min < range_max:
        raise RobotDescriptionError(f'{what}: need 0 <= range min < max, got {range_min}, '
                                    f'{range_max}')
    noise = body.find('noise')
    if noise is None:
        noise = sensor.find('noise')
    noise_type = (_text(noise, 'type') or 'gaussian').lower()
    noise_mean = _number(noise, 'mean', 0.0, what) if noise_type != 'none' else 0.0
    noise_stddev = _number(noise, 'stddev', 0.0, what) if noise_type != 'none' else 0.0
    if noise_stddev < 0:
        raise RobotDescriptionError(f'{what}: negative noise <stddev>')
    update_rate = _number(sensor, 'update_rate', 10.0, what)
    if update_rate <= 0:
        raise RobotDescriptionError(f'{what}: <update_rate> must be positive')
    frame_id = (_text(sensor, 'gz_frame_id') or _text(sensor, 'ignition_frame_id')
                or _text(sensor, 'frame_id') or _plugin_text(sensor, ('frame_name', 'frameName'))
                or link)
    topic = (_text(sensor, 'topic') or _plugin_text(sensor, ('topicName', 'topic_name'))
             or _plugin_remapped_topic(sensor) or 'scan')
    pose_elem = sensor.find('pose')
    try:  # an SDF <pose>: degrees="true" and rotation_format="quat_xyzw" are read too
        pose = sdf_pose(pose_elem) if pose_elem is not None else Pose()
    except ValueError as exc:
        raise RobotDescriptionError(f'{what} <pose>: {exc}') from None
    return LidarSpec(
        name=sensor.get('name') or 'lidar', link=link, frame_id=frame_id, samples=samples,
        min_angle=min_angle, max_angle=max_angle, range_min=range_min, range_max=range_max,
        range_resolution=_number(range_el, 'resolution', 0.0, what), update_rate=update_rate,
        noise_mean=noise_mean, noise_stddev=noise_stddev, topic=topic, pose=pose)


def _plugin_text(sensor: ET.Element, tags: tuple[str, ...]) -> str | None:
    for plugin in sensor.findall('plugin'):
        for tag in tags:
            text = _text(plugin, tag)
            if text is not None:
                return text
    return None


def _plugin_remapped_topic(sensor: ET.Element) -> str | None:
    """gazebo_ros (classic) style ``<ros><remapping>~/out:=scan</remapping></ros>``."""
    for remap in sensor.iterfind('plugin/ros/remapping'):
        text = (remap.text or '').strip()
        if text.startswith('~/out:='):
            return text.split(':=', 1)[1]
    return None
