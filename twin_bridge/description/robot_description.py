"""Robot descriptions: xacro expansion, URDF parsing, and the lidar read from its Gazebo tag."""

from __future__ import annotations

from dataclasses import dataclass, field
import logging
import math
from pathlib import Path
import xml.etree.ElementTree as ET

from twin_bridge.core.lidar import LidarSpec
from twin_bridge.core.transforms import Pose
from twin_bridge.description.resources import share_directory
from twin_bridge.description.sdf_pose import sdf_pose
from twin_bridge.errors import RobotDescriptionError

__all__ = [
    'JointInfo',
    'LIDAR_SENSOR_TYPES',
    'RobotDescription',
    'default_robot_path',
    'expand_xacro',
    'load_robot_description',
    'parse_urdf',
]

LOGGER = logging.getLogger(__name__)

#: Gazebo sensor types read as a planar lidar (Harmonic ``gpu_lidar``/``lidar``, classic ``ray``).
LIDAR_SENSOR_TYPES = ('gpu_lidar', 'lidar', 'gpu_ray', 'ray')
_MOVABLE_TYPES = ('revolute', 'continuous', 'prismatic')
_JOINT_TYPES = ('revolute', 'continuous', 'prismatic', 'fixed', 'floating', 'planar')


@dataclass(frozen=True)
class JointInfo:
    """One URDF joint. ``lower``/``upper`` are ``-inf``/``+inf`` when the joint has no limits.

    ``origin`` is the child link frame in the parent link frame at joint position 0. A
    ``<mimic>`` joint follows ``mimic_joint``: ``q = mimic_multiplier * q_master + mimic_offset``.
    ``effort``/``velocity`` are the ``<limit>`` values (``inf`` when absent or 0).
    """

    name: str
    type: str
    parent: str
    child: str
    axis: tuple[float, float, float] = (1.0, 0.0, 0.0)
    lower: float = -math.inf
    upper: float = math.inf
    origin: Pose = field(default_factory=Pose)
    mimic_joint: str | None = None
    mimic_multiplier: float = 1.0
    mimic_offset: float = 0.0
    effort: float = math.inf
    velocity: float = math.inf

    @property
    def movable(self) -> bool:
        """True for revolute, continuous and prismatic joints."""
        return self.type in _MOVABLE_TYPES


@dataclass(frozen=True)
class RobotDescription:
    """A parsed robot: its URDF, kinematic tree, wheels and lidar.

    ``source`` names where it came from (a path, or ``'<string>'``) for error messages;
    ``base_dir`` is the directory relative mesh paths are resolved against (``None`` for a
    string without a file).
    """

    urdf_xml: str
    name: str
    root_link: str
    joints: tuple[JointInfo, ...]
    movable_joint_names: tuple[str, ...]
    wheel_joint_names: tuple[str, str] | None
    lidar: LidarSpec | None
    links: tuple[str, ...] = ()
    source: str = '<string>'
    base_dir: Path | None = None

    def joint(self, name: str) -> JointInfo:
        """The joint called ``name``.

        :raise KeyError: if there is none
        """
        for joint in self.joints:
            if joint.name == name:
                return joint
        raise KeyError(name)

    def link_pose(self, link: str) -> Pose:
        """Pose of ``link`` in the root link frame with every joint at position 0."""
        by_child = {j.child: j for j in self.joints}
        chain = []
        while link != self.root_link:
            if link not in by_child:
                raise KeyError(link)
            chain.append(by_child[link])
            link = by_child[link].parent
        pose = Pose()
        for joint in reversed(chain):
            pose = pose.compose(joint.origin)
        return pose


def default_robot_path() -> Path:
    """The package's robot, ``urdf/twin_robot.urdf.xacro``."""
    return share_directory() / 'urdf' / 'twin_robot.urdf.xacro'


def expand_xacro(path: str | Path, args: dict[str, str] | None = None) -> str:
    """Run xacro on ``path`` with ``args`` (``name -> value``) and return the URDF XML.

    :raise RobotDescriptionError: naming the file, if it is missing or xacro fails
    """
    path = Path(path)
    if not path.is_file():
        raise RobotDescriptionError(f'{path}: robot description file not found')
    try:
        import xacro
    except ImportError as exc:  # pragma: no cover - xacro is a dependency
        raise RobotDescriptionError(
            f'{path}: cannot expand xacro: the xacro module is not installed '
            '(pip install xacro, or apt install ros-jazzy-xacro)') from exc
    mappings = {str(k): str(v) for k, v in (args or {}).items()}
    try:
        doc = xacro.process_file(str(path), mappings=mappings)
        return doc.toxml()
    except Exception as exc:  # xacro raises many unrelated exception types
        raise RobotDescriptionError(f'{path}: xacro failed: {type(exc).__name__}: {exc}') from exc


def load_robot_description(source: str | Path,
                           args: dict[str, str] | None = None) -> RobotDescription:
    """Load a robot from a ``.xacro``/``.urdf`` file or from a URDF XML string.

    Files ending in ``.xacro``, and files whose root declares the xacro namespace, are run
    through xacro with ``args``.

    :raise RobotDescriptionError: naming the file and element on any problem
    """
    if isinstance(source, str) and source.lstrip().startswith('<'):
        return parse_urdf(source)
    path = Path(source).expanduser()
    if not path.is_file():
        raise RobotDescriptionError(f'{path}: robot description file not found')
    try:
        text = path.read_text(encoding='utf-8')
    except (OSError, UnicodeDecodeError) as exc:
        raise RobotDescriptionError(f'{path}: cannot read: {exc}') from exc
    if path.suffix == '.xacro' or 'xmlns:xacro' in text or args:
        text = expand_xacro(path, args)
    return parse_urdf(text, source=str(path), base_dir=path.parent.resolve())


def parse_urdf(urdf_xml: str, *, source: str = '<string>',
               base_dir: Path | None = None) -> RobotDescription:
    """Parse URDF XML into a :class:`RobotDescription`.

    :param source: file name used in error messages
    :param base_dir: directory relative mesh paths are resolved against
    :raise RobotDescriptionError: on malformed XML, a broken tree or a bad lidar tag
    """
    try:
        root = ET.fromstring(urdf_xml)
    except ET.ParseError as exc:
        raise RobotDescriptionError(f'{source}: malformed XML: {exc}') from exc
    if root.tag != 'robot':
        raise RobotDescriptionError(f'{source}: root element is <{root.tag}>, expected <robot>')
    name = root.get('name') or 'robot'
    links = []
    for link in root.findall('link'):
        link_name = link.get('name')
        if not link_name:
            raise RobotDescriptionError(f'{source}: <link> without a name')
        links.append(link_name)
    if not links:
        raise RobotDescriptionError(f'{source}: robot "{name}" has no <link>')
    if len(set(links)) != len(links):
        dupes = sorted({n for n in links if links.count(n) > 1})
        raise RobotDescriptionError(f'{source}: duplicate link names {dupes}')
    joints = tuple(_parse_joint(j, source, set(links)) for j in root.findall('joint'))
    joint_names = [j.name for j in joints]
    if len(set(joint_names)) != len(joint_names):
        dupes = sorted({n for n in joint_names if joint_names.count(n) > 1})
        raise RobotDescriptionError(f'{source}: duplicate joint names {dupes}')
    root_link = _root_link(links, joints, source)
    _check_mimics(joints, source)
    movable = tuple(j.name for j in joints if j.movable)
    desc_wo_lidar = RobotDescription(
        urdf_xml=urdf_xml, name=name, root_link=root_link, joints=joints,
        movable_joint_names=movable, wheel_joint_names=None, lidar=None, links=tuple(links),
        source=source, base_dir=base_dir)
    wheels = _wheel_joints(root, desc_wo_lidar)
    lidar = _parse_lidar(root, set(links), source)
    return RobotDescription(
        urdf_xml=urdf_xml, name=name, root_link=root_link, joints=joints,
        movable_joint_names=movable, wheel_joint_names=wheels, lidar=lidar, links=tuple(links),
        source=source, base_dir=base_dir)


def _floats(text: str | None, count: int, what: str, source: str,
            default: tuple[float, ...]) -> tuple[float, ...]:
    if text is None or not text.strip():
        return default
    try:
        values = tuple(float(v) for v in text.split())
    except ValueError as exc:
        raise RobotDescriptionError(f'{source}: {what}: not numbers: {text!r}') from exc
    if len(values) != count or not all(math.isfinite(v) for v in values):
        raise RobotDescriptionError(f'{source}: {what}: expected {count} finite numbers, '
                                    f'got {text!r}')
    return values


def _origin(elem: ET.Element | None, what: str, source: str) -> Pose:
    if elem is None:
        return Pose()
    xyz = _floats(elem.get('xyz'), 3, f'{what} <origin xyz>', source, (0.0, 0.0, 0.0))
    rpy = _floats(elem.get('rpy'), 3, f'{what} <origin rpy>', source, (0.0, 0.0, 0.0))
    return Pose.from_xyz_rpy(xyz, rpy)


def _float_attributes(elem: ET.Element, defaults: dict[str, str], source: str,
                      what: str) -> list[float]:
    """The attributes named in ``defaults`` (in that order) as floats, defaults for missing
    ones; a malformed value raises naming the file, joint and element."""
    try:
        return [float(elem.get(name, default)) for name, default in defaults.items()]
    except ValueError as exc:
        raise RobotDescriptionError(f'{source}: {what}: bad <{elem.tag}>: {exc}') from exc


def _parse_joint(elem: ET.Element, source: str, links: set[str]) -> JointInfo:
    name = elem.get('name')
    jtype = elem.get('type')
    if not name:
        raise RobotDescriptionError(f'{source}: <joint> without a name')
    what = f'joint "{name}"'
    if jtype not in _JOINT_TYPES:
        raise RobotDescriptionError(f'{source}: {what}: unknown type {jtype!r}')
    parent_el, child_el = elem.find('parent'), elem.find('child')
    parent = parent_el.get('link') if parent_el is not None else None
    child = child_el.get('link') if child_el is not None else None
    if not parent or not child:
        raise RobotDescriptionError(f'{source}: {what}: needs <parent link> and <child link>')
    for link in (parent, child):
        if link not in links:
            raise RobotDescriptionError(f'{source}: {what}: link "{link}" does not exist')
    axis_el = elem.find('axis')
    axis = _floats(axis_el.get('xyz') if axis_el is not None else None, 3, f'{what} <axis>',
                   source, (1.0, 0.0, 0.0))
    norm = math.sqrt(sum(a * a for a in axis))
    if jtype in _MOVABLE_TYPES and norm < 1e-9:
        raise RobotDescriptionError(f'{source}: {what}: zero <axis>')
    if norm > 0:
        axis = tuple(a / norm for a in axis)
    lower, upper = -math.inf, math.inf
    limit = elem.find('limit')
    if jtype in ('revolute', 'prismatic'):
        if limit is None:
            raise RobotDescriptionError(f'{source}: {what}: {jtype} joint needs <limit>')
        lower, upper = _float_attributes(limit, {'lower': '0', 'upper': '0'}, source, what)
        if not lower <= upper:
            raise RobotDescriptionError(f'{source}: {what}: <limit> lower {lower} > upper {upper}')
    effort = velocity = math.inf
    if limit is not None:
        effort, velocity = _float_attributes(limit, {'effort': 'inf', 'velocity': 'inf'},
                                             source, what)
        # URDF writes 0 for "not given" in many descriptions: read it as no limit.
        effort = effort if effort > 0 else math.inf
        velocity = velocity if velocity > 0 else math.inf
    mimic = elem.find('mimic')
    mimic_joint, multiplier, offset = None, 1.0, 0.0
    if mimic is not None:
        mimic_joint = mimic.get('joint')
        if not mimic_joint:
            raise RobotDescriptionError(f'{source}: {what}: <mimic> without joint')
        multiplier, offset = _float_attributes(mimic, {'multiplier': '1', 'offset': '0'},
                                               source, what)
        if not (math.isfinite(multiplier) and math.isfinite(offset)):
            raise RobotDescriptionError(f'{source}: {what}: <mimic> multiplier and offset must '
                                        f'be finite, got {multiplier}, {offset}')
    return JointInfo(name=name, type=jtype, parent=parent, child=child, axis=axis,
                     lower=lower, upper=upper, origin=_origin(elem.find('origin'), what, source),
                     mimic_joint=mimic_joint, mimic_multiplier=multiplier, mimic_offset=offset,
                     effort=effort, velocity=velocity)


def _root_link(links: list[str], joints: tuple[JointInfo, ...], source: str) -> str:
    children = [j.child for j in joints]
    twice = sorted({c for c in children if children.count(c) > 1})
    if twice:
        raise RobotDescriptionError(f'{source}: links {twice} have more than one parent joint')
    roots = [link for link in links if link not in set(children)]
    if len(roots) != 1:
        raise RobotDescriptionError(
            f'{source}: expected exactly one root link, found {roots or "none (a cycle)"}')
    # Every link must be reachable from the root (no cycles hanging off it).
    by_parent: dict[str, list[str]] = {}
    for joint in joints:
        by_parent.setdefault(joint.parent, []).append(joint.child)
    seen, todo = set(), [roots[0]]
    while todo:
        link = todo.pop()
        seen.add(link)
        todo.extend(by_parent.get(link, []))
    if len(seen) != len(links):
        raise RobotDescriptionError(
            f'{source}: links {sorted(set(links) - seen)} are not connected to root "{roots[0]}"')
    return roots[0]


def _check_mimics(joints: tuple[JointInfo, ...], source: str) -> None:
    """A mimic joint is movable and follows a movable joint, without cycles."""
    by_name = {j.name: j for j in joints}
    for joint in joints:
        if joint.mimic_joint is None:
            continue
        master = by_name.get(joint.mimic_joint)
        if master is None or not master.movable or not joint.movable:
            raise RobotDescriptionError(
                f'{source}: joint "{joint.name}": <mimic joint="{joint.mimic_joint}"> must '
                'couple two movable joints')
        seen = {joint.name}
        while master.mimic_joint is not None:
            if master.name in seen:
                raise RobotDescriptionError(f'{source}: joint "{joint.name}": <mimic> cycle')
            seen.add(master.name)
            master = by_name[master.mimic_joint]


def _wheel_joints(root: ET.Element, desc: RobotDescription) -> tuple[str, str] | None:
    """Left/right wheel joints: from a diff-drive plugin if there is one, else the only two
    continuous joints (left = the one further along the root link's +y)."""
    names = set(desc.movable_joint_names)
    for plugin in root.iter('plugin'):
        left = plugin.findtext('left_joint') or plugin.findtext('leftJoint')
        right = plugin.findtext('right_joint') or plugin.findtext('rightJoint')
        if left and right:
            left, right = left.strip(), right.strip()
            if left not in names or right not in names:
                raise RobotDescriptionError(
                    f'{desc.source}: diff-drive plugin "{plugin.get("name")}" names wheel joints '
                    f'"{left}"/"{right}" that are not movable joints of the robot')
            return left, right
    continuous = [j for j in desc.joints if j.type == 'continuous']
    if len(continuous) != 2:
        return None
    y = [desc.link_pose(j.child).position[1] for j in continuous]
    if abs(y[0] - y[1]) < 1e-9:
        return None
    if y[0] > y[1]:
        return continuous[0].name, continuous[1].name
    return continuous[1].name, continuous[0].name


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


def _parse_lidar(root: ET.Element, links: set[str], source: str) -> LidarSpec | None:
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
