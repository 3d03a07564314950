"""The navigation task's MuJoCo model: a world and a wheeled robot with a lidar, ids resolved.

The model is built like :class:`twin_bridge.embedded.embedded_backend.EmbeddedBackend`'s (the
same world and robot loaders) but tuned for learning: its own (larger) timestep under
``implicitfast``, wheel joints velocity-servoed whatever the description declares, thin
wheel tyres (one contact per wheel, as the diff-drive kinematics assume), resting world
bodies asleep, world geoms off the scan plane in the culled geom group (the beams skip them)
and ``spare_obstacles`` parked boxes that domain randomization can place.
"""

from __future__ import annotations

from pathlib import Path

import mujoco
import numpy as np

from twin_bridge.description.resources import find_world
from twin_bridge.description.robot_description import (
    RobotDescription,
    default_robot_path,
    load_robot_description,
)
from twin_bridge.description.wheel_geometry import WheelGeometry, explain_wheel_geometry
from twin_bridge.embedded.compile_errors import describe_compile_error
from twin_bridge.embedded.embedded_backend import CULLED_GEOM_GROUP, ROBOT_PREFIX
from twin_bridge.embedded.mujoco_robot import (
    FREE_JOINT_NAME,
    LIDAR_SITE_NAME,
    WHEEL_KV,
    robot_spec,
    thin_wheel_tyres,
)
from twin_bridge.embedded.mujoco_world import load_world_spec
from twin_bridge.errors import BackendError, RobotDescriptionError

__all__ = ['PARKED_Z', 'SPARE_PREFIX', 'NavScene']

#: Name prefix of the spare obstacle boxes (``spare_obstacle_0`` ...).
SPARE_PREFIX = 'spare_obstacle_'
#: Height at which unused spare boxes wait (far below the floor; never hit by a scan).
PARKED_Z = -100.0
# World geoms whose top is at most this high are the floor, not obstacles (m).
_SUPPORT_HEIGHT = 0.02
# A box region of this half-size around the origin when a world has no obstacles (m).
_OPEN_WORLD_HALF = 5.0
# Geoms within this of the lidar plane stay visible to the scan (m; the base may tilt a bit).
_PLANE_TOLERANCE = 0.05


class NavScene:
    """A compiled world + robot for the navigation task, shared by all copies of the env.

    :param world: a shipped world name or an SDF path
    :param robot: a :class:`RobotDescription`, a robot file (URDF, xacro, SDF model) or
        ``None`` for the package's robot
    :param timestep: physics step (s)
    :param spare_obstacles: parked boxes domain randomization may place
    :raise ResourceNotFoundError: the world does not exist
    :raise RobotDescriptionError: the robot cannot be loaded, or has no lidar or no
        differential drive (the message says why)
    :raise BackendError: world and robot do not compile together
    """

    def __init__(self, world: str | Path = 'warehouse',
                 robot: RobotDescription | str | Path | None = None, *,
                 timestep: float = 0.005, spare_obstacles: int = 0) -> None:
        if not isinstance(robot, RobotDescription):
            robot = load_robot_description(robot or default_robot_path())
        if robot.lidar is None:
            raise RobotDescriptionError(f'{robot.source}: robot "{robot.name}" has no lidar '
                                        '(a <sensor type="gpu_lidar"> or ray sensor); TwinNav '
                                        'observes the world through one')
        geometry, why = explain_wheel_geometry(robot)
        if geometry is None:
            raise RobotDescriptionError(f'{why}; TwinNav drives a differential-drive robot')
        self.robot: RobotDescription = robot
        self.wheels: WheelGeometry = geometry
        self.lidar = robot.lidar
        spec, self.world_description = load_world_spec(find_world(str(world)))
        self.world_name = str(world)
        frame = spec.worldbody.add_frame()
        spec.attach(_wheeled_robot_spec(robot, geometry), prefix=ROBOT_PREFIX, frame=frame)
        spec.option.integrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST
        spec.option.timestep = float(timestep)
        # Resting world bodies sleep (most of a step's cost in a furnished world); the robot
        # never does.
        spec.option.enableflags |= mujoco.mjtEnableBit.mjENBL_SLEEP
        spec.body(ROBOT_PREFIX + robot.root_link).sleep = mujoco.mjtSleepPolicy.mjSLEEP_NEVER
        for k in range(spare_obstacles):
            spec.worldbody.add_geom(name=f'{SPARE_PREFIX}{k}', type=mujoco.mjtGeom.mjGEOM_BOX,
                                    size=[0.1, 0.1, 0.1], pos=[0.0, 0.0, PARKED_Z],
                                    rgba=[0.8, 0.4, 0.1, 1.0])
        try:
            self.model = spec.compile()
        except Exception as exc:  # MuJoCo reports compile errors as ValueError
            raise BackendError(describe_compile_error(
                str(exc), world=self.world_description, robot=robot,
                robot_prefix=ROBOT_PREFIX)) from exc
        self.spec = spec
        self._resolve(spare_obstacles)

    def _resolve(self, spare: int) -> None:
        m = self.model
        free = m.joint(ROBOT_PREFIX + FREE_JOINT_NAME)
        self.free_qpos = int(free.qposadr[0])
        self.free_dof = int(free.dofadr[0])
        self.robot_body = int(m.jnt_bodyid[free.id])
        names = self.wheels.joint_names
        self.wheel_act = np.array([m.actuator(ROBOT_PREFIX + n).id for n in names], dtype=np.intp)
        self.wheel_limit = np.array([self.robot.joint(n).velocity for n in names])
        wheel_bodies = [int(m.joint(ROBOT_PREFIX + n).bodyid[0]) for n in names]
        hold_act, hold_qpos = [], []
        for name in self.robot.movable_joint_names:
            if name in names or self.robot.joint(name).mimic_joint is not None:
                continue
            try:
                act = m.actuator(ROBOT_PREFIX + name).id
            except KeyError:
                continue
            hold_act.append(act)
            hold_qpos.append(int(m.joint(ROBOT_PREFIX + name).qposadr[0]))
        self.hold_act = np.array(hold_act, dtype=np.intp)
        self.hold_target = m.qpos0[np.array(hold_qpos, dtype=np.intp)].copy()
        self.lidar_site = m.site(ROBOT_PREFIX + LIDAR_SITE_NAME).id
        self.robot_geom = m.body_rootid[m.geom_bodyid] == self.robot_body
        self.robot_bodies = np.flatnonzero(m.body_rootid == self.robot_body)
        self.wheel_geoms = np.flatnonzero(np.isin(m.geom_bodyid, wheel_bodies))
        thin_wheel_tyres(m, wheel_bodies)
        self.spare_geoms = np.array([m.geom(f'{SPARE_PREFIX}{k}').id for k in range(spare)],
                                    dtype=np.intp)
        d = mujoco.MjData(m)
        mujoco.mj_kinematics(m, d)
        # Robot frame quantities with the robot at its initial pose.
        base_pos = d.xpos[self.robot_body].copy()
        base_rot = d.xmat[self.robot_body].reshape(3, 3).copy()
        self.base_height = float(m.qpos0[self.free_qpos + 2])
        lidar_local = base_rot.T @ (d.site_xpos[self.lidar_site] - base_pos)
        self.lidar_offset = lidar_local
        robot_ids = np.flatnonzero(self.robot_geom)
        local = (d.geom_xpos[robot_ids] - base_pos) @ base_rot
        planar = np.hypot(local[:, 0], local[:, 1]) + m.geom_rbound[robot_ids]
        collides = (m.geom_contype[robot_ids] != 0) | (m.geom_conaffinity[robot_ids] != 0)
        #: Radius of the robot's footprint: its colliding geoms' bounding circles (m).
        self.robot_radius = float(planar[collides].max()) if collides.any() else 0.2
        centre, half = _world_boxes(m, d, np.arange(m.ngeom))
        top = centre[:, 2] + half[:, 2]
        floor = (m.geom_type == mujoco.mjtGeom.mjGEOM_PLANE) | (top <= _SUPPORT_HEIGHT)
        #: Geoms a robot contact with is a collision: the world's, except the floor.
        self.obstacle_geom = ~self.robot_geom & ~floor
        self.obstacle_geom[self.spare_geoms] = True
        # The scan is planar at the lidar's height: geoms whose box does not cross it are
        # moved to the culled group, which the beams skip (their cost grows with geoms).
        lidar_z = float(d.site_xpos[self.lidar_site, 2])
        off_plane = np.abs(centre[:, 2] - lidar_z) > half[:, 2] + _PLANE_TOLERANCE
        culled = off_plane & ~self.robot_geom & (m.geom_type != mujoco.mjtGeom.mjGEOM_PLANE)
        culled[self.spare_geoms] = False
        m.geom_group[culled] = CULLED_GEOM_GROUP
        world_obstacles = self.obstacle_geom.copy()
        world_obstacles[self.spare_geoms] = False
        self.bounds = self._bounds(d, np.flatnonzero(world_obstacles))

    def _bounds(self, d: mujoco.MjData, ids: np.ndarray) -> tuple[float, float, float, float]:
        """``(xmin, ymin, xmax, ymax)`` of the obstacles' bounding boxes (an open world: a
        square around the origin)."""
        if not len(ids):
            h = _OPEN_WORLD_HALF
            return (-h, -h, h, h)
        centre, half = _world_boxes(self.model, d, ids)
        low, high = (centre - half).min(axis=0), (centre + half).max(axis=0)
        return (float(low[0]), float(low[1]), float(high[0]), float(high[1]))

    def geom_names(self, prefix: str) -> np.ndarray:
        """Ids of world geoms on the world body named ``prefix`` or ``prefix::...``."""
        m = self.model
        ids = [i for i in range(m.ngeom)
               if m.geom_bodyid[i] == 0 and (m.geom(i).name == prefix
                                             or m.geom(i).name.startswith(prefix + '::'))]
        return np.array(ids, dtype=np.intp)

    def top_bodies(self, prefix: str) -> np.ndarray:
        """Ids of top-level world bodies named ``prefix`` or ``prefix::...``."""
        m = self.model
        ids = [i for i in range(1, m.nbody)
               if m.body_parentid[i] == 0 and i != self.robot_body
               and (m.body(i).name == prefix or m.body(i).name.startswith(prefix + '::'))]
        return np.array(ids, dtype=np.intp)


def _world_boxes(m: mujoco.MjModel, d: mujoco.MjData, ids: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """World-frame bounding-box centres and half sizes ``(k, 3)`` of geoms ``ids``."""
    xmat = d.geom_xmat[ids].reshape(-1, 3, 3)
    aabb = m.geom_aabb[ids]
    centre = d.geom_xpos[ids] + np.einsum('kij,kj->ki', xmat, aabb[:, :3])
    half = np.einsum('kij,kj->ki', np.abs(xmat), aabb[:, 3:])
    return centre, half


def _wheeled_robot_spec(robot: RobotDescription, geometry: WheelGeometry) -> mujoco.MjSpec:
    """The robot's spec with both wheel joints velocity-servoed (a description without a
    diff-drive plugin gets position servos from :func:`robot_spec`)."""
    spec = robot_spec(robot)
    for name in geometry.joint_names:
        act = spec.actuator(name)
        if act is None:
            raise RobotDescriptionError(f'{robot.source}: wheel joint "{name}" has no actuator')
        act.set_to_velocity(kv=WHEEL_KV)
        act.ctrllimited = mujoco.mjtLimited.mjLIMITED_FALSE
    return spec
