"""Robot sensors: the lidar (planar or multi-ring) in ``<gazebo reference="LINK"><sensor>``."""

from __future__ import annotations

from collections.abc import Callable
import logging
import math
import xml.etree.ElementTree as ET

import numpy as np

from twin_bridge.core.lidar import LidarSpec
from twin_bridge.core.transforms import Pose, rotate
from twin_bridge.description.sdf_pose import sdf_pose
from twin_bridge.errors import RobotDescriptionError

__all__ = ['LIDAR_SENSOR_TYPES', 'parse_lidar']

# The robot loader's logger (these warnings are part of loading a robot description).
LOGGER = logging.getLogger('twin_bridge.description.robot_description')

#: Gazebo sensor types read as a planar lidar (Harmonic ``gpu_lidar``/``lidar``, classic ``ray``).
LIDAR_SENSOR_TYPES = ('gpu_lidar', 'lidar', 'gpu_ray', 'ray')
# A scan plane within 10 degrees of horizontal counts as level.
_LEVEL_COS = math.cos(math.radians(10.0))


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


def parse_lidar(root: ET.Element, links: set[str], source: str,
                link_pose: Callable[[str], Pose] | None = None,
                wanted: str = '') -> LidarSpec | None:
    """The robot's lidar, from its ``<gazebo reference="LINK"><sensor>`` tags.

    With ``wanted`` (a sensor name, the ``lidar_sensor`` parameter) that sensor; otherwise the
    best scanner: level (its scan plane horizontal in the root link, upright or upside down)
    before tilted, then most horizontal beams, then file order - so a 2D lidar wins over the
    one-beam cliff and IR range sensors many robots (TurtleBot4, Create3) carry as ``ray``
    sensors. The choice is logged; another multi-beam scanner left out is named in a warning.

    :param link_pose: a link's pose in the root link frame (for "level"); ``None``: the
        sensor's own pose only
    :raise RobotDescriptionError: a bad tag, or no lidar named ``wanted``
    """
    found: list[LidarSpec] = []
    broken: list[tuple[str, RobotDescriptionError]] = []
    for gazebo in root.findall('gazebo'):
        link = gazebo.get('reference')
        for sensor in gazebo.findall('sensor'):
            if sensor.get('type') not in LIDAR_SENSOR_TYPES:
                continue
            what = f'{source}: <gazebo reference="{link}"><sensor name="{sensor.get("name")}">'
            if not link or link not in links:
                raise RobotDescriptionError(f'{what}: reference is not a link of the robot')
            try:
                found.append(_lidar_from_sensor(sensor, link, what))
            except RobotDescriptionError as exc:
                broken.append((sensor.get('name') or '', exc))
    for name, exc in broken:
        if not found or name == wanted:
            raise exc
        LOGGER.warning('%s (the sensor is not simulated)', exc)
    if wanted:
        for lidar in found:
            if lidar.name == wanted:
                LOGGER.info('%s: simulating lidar "%s" on "%s" (lidar_sensor)', source,
                            wanted, lidar.link)
                return lidar
        names = ', '.join(f'"{lidar.name}"' for lidar in found) or 'none'
        raise RobotDescriptionError(
            f'{source}: lidar_sensor "{wanted}" is not a lidar sensor of the robot (its lidar '
            f'sensors: {names}); set lidar_sensor to one of them, or to "" to let the twin choose')
    if not found:
        return None
    ranked = sorted(found, key=lambda lidar: (not _level(lidar, link_pose), -lidar.samples))
    chosen, others = ranked[0], [lidar for lidar in found if lidar is not ranked[0]]
    if others:
        scanners = [lidar for lidar in others if lidar.samples > 1]
        log = LOGGER.warning if scanners else LOGGER.info
        log('%s: robot has %d lidar/ray sensors; the twin simulates "%s" on "%s" (%d beams) and '
            'ignores %s; set the lidar_sensor parameter to choose another', source, len(found),
            chosen.name, chosen.link, chosen.samples,
            ', '.join(f'"{lidar.name}" on "{lidar.link}" ({lidar.samples} beams)'
                      for lidar in others))
    return chosen


def _level(lidar: LidarSpec, link_pose: Callable[[str], Pose] | None) -> bool:
    """Whether the scan plane of ``lidar`` is horizontal (sensor z along the root's +-z)."""
    pose = lidar.pose
    if link_pose is not None:
        try:
            pose = link_pose(lidar.link).compose(pose)
        except KeyError:
            pass
    normal = rotate(np.asarray(pose.orientation, dtype=float), np.array([0.0, 0.0, 1.0]))
    return abs(float(normal[2])) >= _LEVEL_COS


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
    rings, ring_min, ring_max = _vertical(body.find('scan/vertical'), what)
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
        noise_mean=noise_mean, noise_stddev=noise_stddev, topic=topic, pose=pose,
        vertical_samples=rings, vertical_min_angle=ring_min, vertical_max_angle=ring_max)


def _vertical(vertical: ET.Element | None, what: str) -> tuple[int, float, float]:
    """Rings of a 3D lidar from ``<scan><vertical>``: ``(samples, min_angle, max_angle)``;
    ``(1, 0, 0)`` for a planar one (one ring in the sensor's xy plane)."""
    samples_f = _number(vertical, 'samples', 1.0, what)
    resolution = _number(vertical, 'resolution', 1.0, what)
    samples = int(round(samples_f * resolution)) if resolution > 0 else int(samples_f)
    if samples < 1:
        raise RobotDescriptionError(f'{what}: <vertical><samples> must be at least 1')
    if samples == 1:
        return 1, 0.0, 0.0
    low = _number(vertical, 'min_angle', 0.0, what)
    high = _number(vertical, 'max_angle', 0.0, what)
    if not -math.pi / 2 <= low <= high <= math.pi / 2:
        raise RobotDescriptionError(
            f'{what}: <vertical> needs -pi/2 <= min_angle <= max_angle <= pi/2, got {low}, {high}')
    return samples, low, high


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
