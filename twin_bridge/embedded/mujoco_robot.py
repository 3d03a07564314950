"""A URDF robot as a MuJoCo spec: meshes resolved, free base, robot geom group, actuators."""

from __future__ import annotations

import hashlib
import io
import logging
from pathlib import Path
import xml.etree.ElementTree as ET

import mujoco
import numpy as np

from twin_bridge.core.transforms import quat_xyzw_to_wxyz
from twin_bridge.description.meshes import load_mesh
from twin_bridge.description.resources import resolve_uri
from twin_bridge.description.robot_description import RobotDescription
from twin_bridge.errors import ResourceNotFoundError, RobotDescriptionError, TwinBridgeError

__all__ = [
    'FREE_JOINT_NAME',
    'LIDAR_SITE_NAME',
    'ROBOT_GEOM_GROUP',
    'WHEEL_KV',
    'JOINT_KP',
    'robot_spec',
    'thin_wheel_tyres',
]

LOGGER = logging.getLogger(__name__)

#: Geom group of every robot geom; the lidar never casts against it.
ROBOT_GEOM_GROUP = 2
#: Name of the free joint added to the root link's body.
FREE_JOINT_NAME = 'twin_base_free'
#: Name of the site placed at the lidar sensor pose (in the lidar link's body).
LIDAR_SITE_NAME = 'twin_lidar'
#: Velocity-servo gain of wheel actuators (N m per rad/s).
WHEEL_KV = 2.0
#: Position-servo gain of the other movable joints (N m per rad).
JOINT_KP = 20.0

# URDF elements MuJoCo has no use for (and may reject).
_STRIPPED = ('gazebo', 'transmission', 'ros2_control', 'mujoco')


def thin_wheel_tyres(model: mujoco.MjModel, wheel_bodies: np.ndarray | list[int],
                     half_width: float = 1e-3) -> None:
    """Make the wheels' cylinder geoms thin discs, in place, for dynamics.

    A wide cylinder touches the floor at both rims, and the two contacts scrub against every
    turn (the robot turns slower than its servos command); one contact per wheel matches the
    differential-drive kinematics the robot's odometry assumes. Use it on models that only
    step dynamics (prediction, learning, hardware-in-the-loop), not on the one the lidar and
    the footprint read.

    :param wheel_bodies: body ids of the wheels
    """
    geoms = np.flatnonzero(np.isin(model.geom_bodyid, np.asarray(wheel_bodies, dtype=int)))
    cylinders = geoms[model.geom_type[geoms] == mujoco.mjtGeom.mjGEOM_CYLINDER]
    model.geom_size[cylinders, 1] = np.minimum(model.geom_size[cylinders, 1], half_width)


def robot_spec(robot: RobotDescription) -> mujoco.MjSpec:
    """Build a MuJoCo spec of ``robot``, compilable on its own.

    The root link's body gets a free joint (:data:`FREE_JOINT_NAME`); every geom is put in
    :data:`ROBOT_GEOM_GROUP`; wheel joints get velocity actuators and other movable joints
    position actuators (named after the joint; a mimic joint is coupled to its master by an
    equality instead); floating joints become fixed (with a warning); caster geoms become
    frictionless; the lidar (if any) gets a site :data:`LIDAR_SITE_NAME` at its sensor pose.
    Names of bodies and joints are the URDF link and joint names.

    :raise RobotDescriptionError: naming the robot's source and the element at fault
    """
    if robot.root_link == 'world':
        raise RobotDescriptionError(
            f'{robot.source}: root link "world" pins the robot to the world; a twin needs a '
            'mobile base (remove the "world" link and its joint)')
    root = ET.fromstring(robot.urdf_xml)
    for tag in _STRIPPED:
        for elem in root.findall(tag):
            root.remove(elem)
    for joint in root.findall('joint'):
        if joint.get('type') == 'floating':
            # MuJoCo allows free joints only on top-level bodies; joint_states never carry a
            # floating joint's pose either, so the twin holds it at its origin.
            LOGGER.warning('%s: floating joint "%s" is simulated as fixed at its origin',
                           robot.source, joint.get('name'))
            joint.set('type', 'fixed')
    assets = _collect_meshes(root, robot)
    mujoco_el = ET.SubElement(root, 'mujoco')
    ET.SubElement(mujoco_el, 'compiler', discardvisual='false', fusestatic='false',
                  strippath='false', balanceinertia='true', boundmass='1e-4',
                  boundinertia='1e-8')
    try:
        spec = mujoco.MjSpec.from_string(ET.tostring(root, encoding='unicode'), assets=assets)
    except Exception as exc:  # MuJoCo raises ValueError with the parser's message
        raise RobotDescriptionError(f'{robot.source}: MuJoCo cannot read the URDF: {exc}') from exc
    base = spec.body(robot.root_link)
    if base is None:
        raise RobotDescriptionError(f'{robot.source}: root link "{robot.root_link}" lost in import')
    base.add_freejoint(name=FREE_JOINT_NAME)
    _configure_geoms(spec, robot)
    _add_actuators(spec, robot)
    if robot.lidar is not None:
        body = spec.body(robot.lidar.link)
        if body is None:
            raise RobotDescriptionError(
                f'{robot.source}: lidar link "{robot.lidar.link}" has no body in MuJoCo')
        body.add_site(name=LIDAR_SITE_NAME, pos=np.asarray(robot.lidar.pose.position),
                      quat=quat_xyzw_to_wxyz(robot.lidar.pose.orientation),
                      group=ROBOT_GEOM_GROUP)
    return spec


def _collect_meshes(root: ET.Element, robot: RobotDescription) -> dict[str, bytes]:
    """Rewrite every ``<mesh filename>`` to a unique asset name and return the asset bytes.

    A visual whose mesh file cannot be read is left out (visuals are never ray-cast or
    collided), named in one warning with the real cause; a collision mesh that cannot be
    read, and any mesh that cannot be found (a package not installed), stop the load.
    """
    assets: dict[str, bytes] = {}
    names: dict[Path, str] = {}
    dropped: list[str] = []
    for link in root.findall('link'):
        for kind in ('visual', 'collision'):
            for elem in link.findall(kind):
                mesh = elem.find('geometry/mesh')
                if mesh is None:
                    continue
                uri = mesh.get('filename', '')
                where = f'{robot.source}: link "{link.get("name")}" <{kind}> mesh "{uri}"'
                path = _resolve_mesh(uri, robot, where)  # not found: a setup error
                try:
                    if path not in names:
                        digest = hashlib.sha1(str(path).encode()).hexdigest()[:8]
                        assets[f'{path.stem}_{digest}.obj'] = _mesh_bytes(path, where)
                        names[path] = f'{path.stem}_{digest}.obj'
                except RobotDescriptionError as exc:
                    if kind == 'collision':
                        raise
                    dropped.append(str(exc).removeprefix(f'{robot.source}: '))
                    link.remove(elem)
                    continue
                mesh.set('filename', names[path])
    if dropped:
        LOGGER.warning('%s: %d visual mesh(es) left out of the twin (visual only: scans and '
                       'contacts are unaffected): %s', robot.source, len(dropped),
                       '; '.join(dropped))
    return assets


def _resolve_mesh(uri: str, robot: RobotDescription, where: str) -> Path:
    if not uri:
        raise RobotDescriptionError(f'{where}: <mesh> without filename')
    try:
        return resolve_uri(uri, base_dir=robot.base_dir).resolve()
    except ResourceNotFoundError as exc:
        raise RobotDescriptionError(f'{where}: {exc}') from exc


def _mesh_bytes(path: Path, where: str) -> bytes:
    """The mesh as Wavefront OBJ bytes (any format
    :func:`twin_bridge.description.meshes.load_mesh` reads; COLLADA units applied). URDF
    ``scale`` is left to MuJoCo."""
    try:
        mesh = load_mesh(path)
    except TwinBridgeError as exc:
        raise RobotDescriptionError(f'{where}: {exc}') from exc
    buffer = io.BytesIO()
    np.savetxt(buffer, mesh.vertices, fmt='v %.9g %.9g %.9g')
    np.savetxt(buffer, mesh.faces + 1, fmt='f %d %d %d')
    return buffer.getvalue()


def _configure_geoms(spec: mujoco.MjSpec, robot: RobotDescription) -> None:
    wheel_links = set()
    if robot.wheel_joint_names is not None:
        wheel_links = {robot.joint(j).child for j in robot.wheel_joint_names}
    for body in spec.bodies:
        if body.name == 'world':
            continue
        # Casters: a link named like one, or a sphere collision on a wheeled robot's non-wheel
        # link (a ball caster).
        caster_link = 'caster' in body.name.lower()
        for geom in body.geoms:
            geom.group = ROBOT_GEOM_GROUP
            collides = geom.contype != 0 or geom.conaffinity != 0
            sphere_caster = (geom.type == mujoco.mjtGeom.mjGEOM_SPHERE
                             and body.name not in wheel_links and bool(wheel_links))
            if collides and (caster_link or sphere_caster):
                # Frictionless, and its contacts take this geom's settings (priority).
                geom.priority = 1
                geom.condim = 1
                geom.friction = np.zeros(3)


def _add_actuators(spec: mujoco.MjSpec, robot: RobotDescription) -> None:
    wheels = set(robot.wheel_joint_names or ())
    for joint in robot.joints:
        if not joint.movable or joint.mimic_joint is not None:
            continue  # MuJoCo's URDF import couples a mimic joint with an equality
        act = spec.add_actuator(name=joint.name, target=joint.name,
                                trntype=mujoco.mjtTrn.mjTRN_JOINT)
        if np.isfinite(joint.effort):
            act.forcerange = np.array([-joint.effort, joint.effort])
            act.forcelimited = mujoco.mjtLimited.mjLIMITED_TRUE
        if joint.name in wheels:
            act.set_to_velocity(kv=WHEEL_KV)
        else:
            act.set_to_position(kp=JOINT_KP, kv=0.1 * JOINT_KP)
            # A locked joint (lower == upper; MuJoCo drops its limit) is held by the servo.
            if np.isfinite(joint.lower) and np.isfinite(joint.upper) and joint.lower < joint.upper:
                act.ctrlrange = np.array([joint.lower, joint.upper])
                act.ctrllimited = mujoco.mjtLimited.mjLIMITED_TRUE
