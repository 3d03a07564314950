"""A robot's differential drive read from its description: wheel joints, radius, separation."""

from __future__ import annotations

from dataclasses import dataclass
import math
import xml.etree.ElementTree as ET

import numpy as np

from twin_bridge.core.transforms import Pose, rotate
from twin_bridge.description.robot_description import JointInfo, RobotDescription

__all__ = ['WheelGeometry', 'explain_wheel_geometry', 'wheel_geometry']

# A wheel axle must be this close to the base's lateral (y) axis: |cos| of the angle.
_LATERAL_COS = math.cos(math.radians(10.0))
# A cylinder's axis must be this close to its joint axis to be the wheel's tyre.
_ALIGNED_COS = math.cos(math.radians(10.0))


@dataclass(frozen=True)
class WheelGeometry:
    """A differential drive: two wheel joints, wheel radius and separation (m).

    ``left_sign``/``right_sign`` are +1 when a positive joint velocity drives that wheel
    forward (along the base's +x) and -1 when the joint axis points the other way, so
    ``forward wheel speed = sign * joint velocity``. ``declared_radius``/
    ``declared_separation`` are the values a diff-drive plugin in the description states (or
    ``None``); the geometry comes from the collision shapes and joint origins.
    """

    left_joint: str
    right_joint: str
    radius: float
    separation: float
    left_sign: float = 1.0
    right_sign: float = 1.0
    base_link: str = 'base_link'
    declared_radius: float | None = None
    declared_separation: float | None = None

    def __post_init__(self) -> None:
        if not (self.radius > 0 and self.separation > 0):
            raise ValueError('radius and separation must be > 0, got '
                             f'{self.radius}, {self.separation}')
        if self.left_sign not in (1.0, -1.0) or self.right_sign not in (1.0, -1.0):
            raise ValueError(f'wheel signs must be +1 or -1, got {self.left_sign}, '
                             f'{self.right_sign}')

    @property
    def joint_names(self) -> tuple[str, str]:
        """``(left, right)`` joint names."""
        return self.left_joint, self.right_joint

    def twist(self, left_velocity: float | np.ndarray,
              right_velocity: float | np.ndarray) -> tuple[float | np.ndarray, float | np.ndarray]:
        """Forward speed (m/s) and yaw rate (rad/s) from joint velocities (rad/s)."""
        vl = self.left_sign * self.radius * left_velocity
        vr = self.right_sign * self.radius * right_velocity
        return (vl + vr) / 2.0, (vr - vl) / self.separation

    def joint_velocities(self, v: float | np.ndarray,
                         omega: float | np.ndarray
                         ) -> tuple[float | np.ndarray, float | np.ndarray]:
        """Joint velocities (rad/s, joint convention) that drive forward speed ``v`` (m/s)
        and yaw rate ``omega`` (rad/s); the inverse of :meth:`twist`."""
        half = 0.5 * self.separation * omega
        return ((v - half) / (self.left_sign * self.radius),
                (v + half) / (self.right_sign * self.radius))


def wheel_geometry(robot: RobotDescription) -> WheelGeometry | None:
    """The robot's differential drive, or ``None`` when it is not one.

    :func:`explain_wheel_geometry` says why not.
    """
    return explain_wheel_geometry(robot)[0]


def explain_wheel_geometry(robot: RobotDescription) -> tuple[WheelGeometry | None, str]:
    """The robot's differential drive and a one-line account of how it was found (or why not).

    Wheel candidates are continuous joints (or revolute ones spanning a full turn), not
    mimics, with an axle along the base's y axis, whose child link has a cylinder collision
    coaxial with the joint (or a sphere). The pair a diff-drive plugin names
    (``robot.wheel_joint_names``) is taken when both are candidates; otherwise there must be
    exactly two. Left is the one at larger y in the root link frame; the radius is the mean of
    the two collision radii, the separation the joint origins' distance along y.
    """
    try:
        root = ET.fromstring(robot.urdf_xml)
    except ET.ParseError as exc:  # parse_urdf already read it; kept for hand-made descriptions
        return None, f'{robot.source}: malformed XML: {exc}'
    link_elems = {link.get('name'): link for link in root.findall('link')}
    candidates: dict[str, tuple[float, float, float]] = {}  # name -> (radius, y, axis y)
    rejected: list[str] = []
    for joint in robot.joints:
        if not _spins_freely(joint):
            continue
        found = _candidate(robot, joint, link_elems.get(joint.child))
        if isinstance(found, str):
            rejected.append(f'{joint.name}: {found}')
        else:
            candidates[joint.name] = found
    named = robot.wheel_joint_names
    if named is not None and all(n in candidates for n in named):
        pair = list(named)
    elif len(candidates) == 2:
        pair = list(candidates)
    else:
        detail = f' ({"; ".join(rejected)})' if rejected else ''
        return None, (f'{robot.source}: not a differential drive: {len(candidates)} wheel '
                      f'joints {sorted(candidates)}, expected 2{detail}')
    (r0, y0, a0), (r1, y1, a1) = candidates[pair[0]], candidates[pair[1]]
    if abs(y0 - y1) < 1e-6:
        return None, (f'{robot.source}: wheel joints {pair} are at the same lateral position; '
                      'not a differential drive')
    if y0 < y1:
        pair.reverse()
        (r0, y0, a0), (r1, y1, a1) = (r1, y1, a1), (r0, y0, a0)
    declared_r, declared_s = _declared(root)
    geometry = WheelGeometry(
        left_joint=pair[0], right_joint=pair[1], radius=0.5 * (r0 + r1),
        separation=y0 - y1, left_sign=math.copysign(1.0, a0), right_sign=math.copysign(1.0, a1),
        base_link=robot.root_link, declared_radius=declared_r, declared_separation=declared_s)
    return geometry, (f'{robot.source}: diff drive {pair[0]}/{pair[1]}, radius '
                      f'{geometry.radius:.4g} m, separation {geometry.separation:.4g} m')


def _spins_freely(joint: JointInfo) -> bool:
    if joint.mimic_joint is not None:
        return False
    if joint.type == 'continuous':
        return True
    return joint.type == 'revolute' and joint.upper - joint.lower >= 2 * math.pi - 1e-6


def _candidate(robot: RobotDescription, joint: JointInfo,
               link: ET.Element | None) -> tuple[float, float, float] | str:
    """``(radius, y, axis y)`` in the root frame for a wheel joint, or why it is not one."""
    pose = robot.link_pose(joint.child)
    axis = rotate(pose.orientation, np.asarray(joint.axis, dtype=float))
    if abs(axis[1]) < _LATERAL_COS:
        return 'axle not along the base y axis'
    radius = _collision_radius(link, np.asarray(joint.axis, dtype=float))
    if radius is None:
        return 'child link has no cylinder/sphere collision coaxial with the joint'
    return radius, float(pose.position[1]), float(axis[1])


def _collision_radius(link: ET.Element | None, axis: np.ndarray) -> float | None:
    """Radius of the link's first sphere, or cylinder whose axis is the joint axis."""
    if link is None:
        return None
    for collision in link.findall('collision'):
        geometry = collision.find('geometry')
        if geometry is None:
            continue
        sphere, cylinder = geometry.find('sphere'), geometry.find('cylinder')
        shape = sphere if sphere is not None else cylinder
        if shape is None:
            continue
        try:
            radius = float(shape.get('radius', 'nan'))
        except ValueError:
            continue
        if not (math.isfinite(radius) and radius > 0):
            continue
        if shape is cylinder:
            origin = _origin(collision.find('origin'))
            if origin is None:
                continue
            cyl_axis = rotate(origin.orientation, np.array([0.0, 0.0, 1.0]))
            if abs(float(cyl_axis @ axis)) < _ALIGNED_COS:
                continue
        return radius
    return None


def _origin(elem: ET.Element | None) -> Pose | None:
    if elem is None:
        return Pose()
    try:
        xyz = [float(v) for v in (elem.get('xyz') or '0 0 0').split()]
        rpy = [float(v) for v in (elem.get('rpy') or '0 0 0').split()]
    except ValueError:
        return None
    if len(xyz) != 3 or len(rpy) != 3:
        return None
    return Pose.from_xyz_rpy(xyz, rpy)


def _declared(root: ET.Element) -> tuple[float | None, float | None]:
    """Wheel radius and separation a diff-drive plugin states (classic or gz names)."""
    for plugin in root.iter('plugin'):
        texts = [plugin.findtext(tag) for tag in ('wheel_radius', 'wheelRadius')]
        sep_texts = [plugin.findtext(tag) for tag in ('wheel_separation', 'wheelSeparation')]
        radius = next((t for t in texts if t), None)
        separation = next((t for t in sep_texts if t), None)
        if radius is None and separation is None:
            continue
        # Classic gazebo_ros_diff_drive writes wheel_diameter; gz DiffDrive wheel_radius.
        diameter = plugin.findtext('wheel_diameter') or plugin.findtext('wheelDiameter')
        return (_number(radius) if radius else (_half(diameter)),
                _number(separation) if separation else None)
    return None, None


def _number(text: str | None) -> float | None:
    try:
        value = float(text) if text is not None else math.nan
    except ValueError:
        return None
    return value if math.isfinite(value) and value > 0 else None


def _half(text: str | None) -> float | None:
    value = _number(text)
    return None if value is None else 0.5 * value
