"""Robot descriptions: xacro expansion and URDF parsing (the lidar tag is read by robot_sensors)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
import math
from pathlib import Path
import xml.etree.ElementTree as ET

from twin_bridge.core.lidar import LidarSpec
from twin_bridge.core.transforms import Pose
from twin_bridge.description.resources import share_directory
from twin_bridge.description.robot_sensors import LIDAR_SENSOR_TYPES, parse_lidar
from twin_bridge.description.sdf_robot import is_sdf_file, sdf_model_urdf
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
    string without a file); ``sdf_path`` is the SDF model file the robot was converted from
    (``None`` for a URDF robot), which Gazebo spawns as it is.
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
    sdf_path: Path | None = None

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


def load_robot_description(source: str | Path, args: dict[str, str] | None = None, *,
                           lidar_sensor: str = '') -> RobotDescription:
    """Load a robot from a ``.xacro``/``.urdf`` file, an SDF ``model.sdf``, or a URDF string.

    Files ending in ``.xacro``, and files whose root declares the xacro namespace, are run
    through xacro with ``args``. An SDF model (``.sdf`` or a root ``<sdf>``) is converted to
    URDF (:mod:`twin_bridge.description.sdf_robot`); ``sdf_path`` then names the file.

    :param lidar_sensor: name of the sensor to simulate as the lidar (``''``: the twin picks
        the best scanner, see :func:`twin_bridge.description.robot_sensors.parse_lidar`)
    :raise RobotDescriptionError: naming the file and element on any problem
    """
    if isinstance(source, str) and source.lstrip().startswith('<'):
        return parse_urdf(source, lidar_sensor=lidar_sensor)
    path = Path(source).expanduser()
    if not path.is_file():
        raise RobotDescriptionError(f'{path}: robot description file not found')
    try:
        text = path.read_text(encoding='utf-8')
    except (OSError, UnicodeDecodeError) as exc:
        raise RobotDescriptionError(f'{path}: cannot read: {exc}') from exc
    if is_sdf_file(path):
        robot = parse_urdf(sdf_model_urdf(path), source=str(path),
                           base_dir=path.parent.resolve(), lidar_sensor=lidar_sensor)
        return replace(robot, sdf_path=path.resolve())
    if path.suffix == '.xacro' or 'xmlns:xacro' in text or args:
        text = expand_xacro(path, args)
    return parse_urdf(text, source=str(path), base_dir=path.parent.resolve(),
                      lidar_sensor=lidar_sensor)


def parse_urdf(urdf_xml: str, *, source: str = '<string>', base_dir: Path | None = None,
               lidar_sensor: str = '') -> RobotDescription:
    """Parse URDF XML into a :class:`RobotDescription`.

    :param source: file name used in error messages
    :param base_dir: directory relative mesh paths are resolved against
    :param lidar_sensor: the lidar sensor's name (``''``: the best scanner)
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
    lidar = parse_lidar(root, set(links), source, desc_wo_lidar.link_pose, lidar_sensor)
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
