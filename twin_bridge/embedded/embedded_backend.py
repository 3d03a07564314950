"""The embedded simulator backend: an SDF world and a URDF robot in one MuJoCo model."""

from __future__ import annotations

from pathlib import Path
import threading

import mujoco
import numpy as np

from twin_bridge.core.backend import SimulatorBackend
from twin_bridge.core.lidar import LidarSpec, ScanData
from twin_bridge.core.point_cloud import PointCloudData
from twin_bridge.core.quoting import quote_names
from twin_bridge.core.state import JointStateSample, OdometrySample
from twin_bridge.core.transforms import quat_wxyz_to_xyzw
from twin_bridge.description.resources import find_world
from twin_bridge.description.robot_description import RobotDescription
from twin_bridge.embedded.compile_errors import describe_compile_error
from twin_bridge.embedded.mujoco_robot import (
    FREE_JOINT_NAME,
    LIDAR_SITE_NAME,
    ROBOT_GEOM_GROUP,
    robot_spec,
)
from twin_bridge.embedded.mujoco_world import CONTACT_GEOM_GROUP, load_world_spec
from twin_bridge.embedded.scan_scene import ScanScene
from twin_bridge.errors import BackendError, RobotDescriptionError

__all__ = ['CULLED_GEOM_GROUP', 'ROBOT_PREFIX', 'EmbeddedBackend']

#: Prefix of every robot element name inside the combined MuJoCo model.
ROBOT_PREFIX = 'robot/'
#: Geom group reserved for geoms a scan skips (out of the scan plane); never cast against.
CULLED_GEOM_GROUP = 5
# Distinct joint-name subsets whose qpos/dof addresses are kept (oldest evicted first).
_SUBSET_CACHE_SIZE = 32


class EmbeddedBackend(SimulatorBackend):
    """A twin simulated in-process with MuJoCo.

    The world (an SDF file, loaded by :func:`twin_bridge.embedded.mujoco_world.load_world_spec`) and
    the robot are compiled once into one model; names are resolved to index arrays once.
    :meth:`mirror` writes the base pose and joint positions and marks kinematics stale;
    sensing brings them up to date with ``mj_kinematics`` only. :meth:`scan` is one batched
    ``mj_multiRay`` from the lidar's sensor pose into a :class:`ScanScene` (the world's
    lidar-visible geoms in spatial cells, so its cost follows the geometry in range); the
    robot's own geoms and the convex parts of decomposed meshes are never hit.
    :meth:`point_cloud` casts every ring of a 3D lidar the same way.

    Scans: ``scan_time`` is ``1 / update_rate``; ``time_increment`` is 0 because every beam is
    cast at the same instant (no motion skew to correct for).

    :param world: a shipped world name, an SDF path, or a ready :class:`mujoco.MjSpec`
        (its geoms are the world; the spec is modified)
    :param robot: the robot to put in it
    :param lidar_seed: seed of the lidar noise generator (``None``: fresh entropy)
    :param search_path: extra directories for ``model://`` look-ups
    :param lidar_noise: add the Gaussian noise the lidar tag describes (default on)
    :param timestep: dynamics step (s); ``None`` keeps the world's
    :param decompose_meshes: concave static meshes collide as their convex parts (CoACD,
        cached on disk) rather than as their hulls; rays always hit the exact triangles
    :raise ResourceNotFoundError: the world (or a file it needs) does not exist
    :raise WorldLoadError: the world cannot be loaded
    :raise RobotDescriptionError: the robot cannot be simulated
    :raise BackendError: world and robot do not compile together
    """

    def __init__(self, world: str | Path | mujoco.MjSpec, robot: RobotDescription, *,
                 lidar_seed: int | None = None, search_path: list[Path] | None = None,
                 lidar_noise: bool = True, timestep: float | None = None,
                 decompose_meshes: bool = True) -> None:
        self.world_description = None
        if isinstance(world, mujoco.MjSpec):
            spec = world
        else:
            spec, self.world_description = load_world_spec(
                find_world(str(world)), search_path=search_path,
                decompose_meshes=decompose_meshes)
        self._robot = robot
        frame = spec.worldbody.add_frame()
        spec.attach(robot_spec(robot), prefix=ROBOT_PREFIX, frame=frame)
        spec.option.integrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST
        # Resting world bodies sleep during dynamics (about half the step cost in a furnished
        # world); the robot never does, so mirroring always moves it.
        spec.option.enableflags |= mujoco.mjtEnableBit.mjENBL_SLEEP
        spec.body(ROBOT_PREFIX + robot.root_link).sleep = mujoco.mjtSleepPolicy.mjSLEEP_NEVER
        if timestep is not None:
            spec.option.timestep = timestep
        try:
            self.model = spec.compile()
        except Exception as exc:  # MuJoCo reports compile errors as ValueError
            try:  # the robot's fault or the world's?
                robot_spec(robot).compile()
            except Exception as robot_exc:
                raise RobotDescriptionError(describe_compile_error(
                    str(robot_exc), world=None, robot=robot, robot_prefix='')) from exc
            raise BackendError(describe_compile_error(
                str(exc), world=self.world_description, robot=robot,
                robot_prefix=ROBOT_PREFIX)) from exc
        self.data = mujoco.MjData(self.model)
        self._lock = threading.Lock()          # guards self.data (mirror, step, read-back)
        # Scans run on a snapshot in data of their own, so a scan (possibly on another
        # thread; mj_multiRay releases the GIL) never holds up mirroring.
        self._scan_data = mujoco.MjData(self.model)
        self._scan_lock = threading.Lock()     # one scan at a time (its buffers)
        self._resolve_ids()
        self._setup_lidar(lidar_seed, lidar_noise)
        self._dirty = True
        self._pose_known = False
        self._joints_known = False

    # -- construction -----------------------------------------------------------------------

    def _resolve_ids(self) -> None:
        m = self.model
        free = m.joint(ROBOT_PREFIX + FREE_JOINT_NAME)
        self._free_qpos = a = int(free.qposadr[0])
        self._free_dof = int(free.dofadr[0])
        # qpos holds (px, py, pz, qw, qx, qy, qz): the (x, y, z, w) order as addresses.
        self._quat_xyzw = np.array([a + 4, a + 5, a + 6, a + 3], dtype=np.intp)
        self._pose_xyzw = np.r_[a:a + 3, self._quat_xyzw]
        self._quat_neg = np.zeros(4)      # scratch: the inverse rotation, for read-back
        self._joint_names = tuple(self._robot.movable_joint_names)
        self._joint_index: dict[str, int] = {n: i for i, n in enumerate(self._joint_names)}
        joints = [m.joint(ROBOT_PREFIX + n) for n in self._joint_names]
        self._qpos_adr = np.array([int(j.qposadr[0]) for j in joints], dtype=np.intp)
        self._dof_adr = np.array([int(j.dofadr[0]) for j in joints], dtype=np.intp)
        self._subset_cache: dict[tuple[str, ...], tuple[np.ndarray, np.ndarray]] = {}
        wheels = self._robot.wheel_joint_names or ()
        self._wheel_names = tuple(wheels)
        self._wheel_index = {n: i for i, n in enumerate(self._wheel_names)}
        self._wheel_act = np.array([m.actuator(ROBOT_PREFIX + n).id for n in wheels],
                                   dtype=np.intp)
        # Mimic joints follow their master (applied as often as the longest mimic chain).
        mimics = [j for j in self._robot.joints if j.movable and j.mimic_joint is not None]
        rows = [self._joint_index[j.name] for j in mimics]
        masters = [self._joint_index[j.mimic_joint] for j in mimics]
        self._mimic_qpos = self._qpos_adr[rows]
        self._mimic_dof = self._dof_adr[rows]
        self._master_qpos = self._qpos_adr[masters]
        self._master_dof = self._dof_adr[masters]
        self._mimic_gain = np.array([j.mimic_multiplier for j in mimics])
        self._mimic_offset = np.array([j.mimic_offset for j in mimics])
        by_name = {j.name: j for j in self._robot.joints}
        self._mimic_depth = 0
        for joint in mimics:
            depth, master = 1, by_name[joint.mimic_joint]
            while master.mimic_joint is not None:
                depth, master = depth + 1, by_name[master.mimic_joint]
            self._mimic_depth = max(self._mimic_depth, depth)
        mimic_names = {j.name for j in mimics}
        others = [n for n in self._joint_names if n not in wheels and n not in mimic_names]
        self._hold_act = np.array([m.actuator(ROBOT_PREFIX + n).id for n in others],
                                  dtype=np.intp)
        self._hold_qpos = np.array([self._qpos_adr[self._joint_index[n]] for n in others],
                                   dtype=np.intp)

    def _setup_lidar(self, seed: int | None, noise: bool) -> None:
        spec = self._robot.lidar
        self._lidar = spec
        if spec is None:
            return
        self._site = self.model.site(ROBOT_PREFIX + LIDAR_SITE_NAME).id
        # Beams in the sensor frame, ring-major (PointCloud2 row order); the scan is one ring.
        self._local_dirs = spec.ray_directions()
        ring = spec.scan_ring
        self._scan_rows = slice(ring * spec.samples, (ring + 1) * spec.samples)
        self._scan_planar = spec.ring_angles()[ring] == 0.0
        n = len(self._local_dirs)
        self._ray_vec = np.zeros((n, 3))
        self._ray_pnt = np.zeros(3)
        self._ray_geom = np.zeros(n, dtype=np.int32)
        self._ray_dist = np.zeros(n)
        # The geoms the lidar sees, copied into a ray-casting scene of spatial cells (so a
        # scan's cost follows the geometry in range, not the size of the world); world
        # bodies move only in step(), which marks the scene for a sync.
        self._build_scan_scene()
        self._noise_stddev = spec.noise_stddev if noise else 0.0
        self._noise_mean = spec.noise_mean if noise else 0.0
        self._rng = np.random.default_rng(seed)
        self._scan_time = 1.0 / spec.update_rate

    def _build_scan_scene(self) -> None:
        m = self.model
        visible = np.ones(mujoco.mjNGROUP, dtype=bool)
        visible[[ROBOT_GEOM_GROUP, CULLED_GEOM_GROUP, CONTACT_GEOM_GROUP]] = False
        # Fresh data: with sleeping on, kinematics does not recompute static geoms' poses.
        data = mujoco.MjData(m)
        with self._lock:
            data.qpos[:] = self.data.qpos
        mujoco.mj_kinematics(m, data)
        self._scene = ScanScene(m, data, np.flatnonzero(visible[m.geom_group]),
                                cell_size=self._lidar.range_max)
        self._world_moved = False

    def world_edited(self) -> None:
        """Call after editing :attr:`model`'s world geometry in place (``geom_pos``,
        ``body_pos``, sizes ...): scans copy the world's geometry once (bodies moved by
        :meth:`step` are followed without this), so they see such edits only after it."""
        if self._lidar is not None:
            with self._scan_lock:
                self._build_scan_scene()

    # -- SimulatorBackend -------------------------------------------------------------------

    @property
    def joint_names(self) -> tuple[str, ...]:
        """Movable joints of the robot, in URDF order."""
        return self._joint_names

    @property
    def lidar(self) -> LidarSpec | None:
        """The lidar read from the robot description's Gazebo sensor tag."""
        return self._lidar

    @property
    def robot(self) -> RobotDescription:
        """The simulated robot."""
        return self._robot

    def mirror(self, odometry: OdometrySample | None = None,
               joints: JointStateSample | None = None) -> None:
        """Set the root's pose (and twist) and any subset of joint positions (and velocities).

        Inputs follow :meth:`SimulatorBackend.mirror`'s contract (validated, root frame, unit
        quaternion) and are written as given: a pose reads back bit for bit. Mimic joints
        (URDF ``<mimic>``) then follow their masters, whether or not the sample names them.
        Nothing changes when an input is refused.

        :raise BackendError: a joint name the robot does not have as a movable joint
        """
        if joints is not None:
            qpos_idx, dof_idx = self._joint_indices(joints.names)
        with self._lock:
            qpos, qvel = self.data.qpos, self.data.qvel
            if odometry is not None:
                a, d = self._free_qpos, self._free_dof
                qpos[a:a + 3] = odometry.position
                qpos[self._quat_xyzw] = odometry.orientation
                # Free joint velocity: linear in the world frame, angular in the body
                # frame; odometry twist is in the child (here: root) frame.
                mujoco.mju_rotVecQuat(qvel[d:d + 3], odometry.linear_velocity,
                                      qpos[a + 3:a + 7])
                qvel[d + 3:d + 6] = odometry.angular_velocity
                self._pose_known = True
            if joints is not None:
                qpos[qpos_idx] = joints.positions
                if joints.velocities is not None:
                    qvel[dof_idx] = joints.velocities
                for _ in range(self._mimic_depth):
                    qpos[self._mimic_qpos] = (self._mimic_gain * qpos[self._master_qpos]
                                              + self._mimic_offset)
                    qvel[self._mimic_dof] = self._mimic_gain * qvel[self._master_dof]
                self._joints_known = True
            self._dirty = True

    def _joint_indices(self, names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        """qpos and dof addresses of ``names``, resolved once per distinct tuple."""
        cached = self._subset_cache.get(names)
        if cached is not None:
            return cached
        index = self._joint_index
        unknown = [n for n in names if n not in index]
        if unknown:
            raise BackendError(f'unknown joint(s) {quote_names(unknown)}; robot '
                               f'"{self._robot.name}" has movable joints '
                               f'{list(self._joint_names)}')
        rows = np.array([index[n] for n in names], dtype=np.intp)
        cached = (self._qpos_adr[rows], self._dof_adr[rows])
        if len(self._subset_cache) >= _SUBSET_CACHE_SIZE:
            del self._subset_cache[next(iter(self._subset_cache))]
        self._subset_cache[names] = cached
        return cached

    def _update_kinematics(self) -> None:
        if self._dirty:
            mujoco.mj_kinematics(self.model, self.data)
            self._dirty = False

    def scan(self) -> ScanData | None:
        """One scan from the current state (REP-117 ranges, float32): the lidar's scan ring
        (:attr:`LidarSpec.scan_ring`; the only ring of a planar lidar)."""
        spec = self._lidar
        if spec is None:
            return None
        ranges = self._cast(self._scan_rows, self._scan_planar)
        return ScanData(
            frame_id=spec.frame_id, angle_min=spec.min_angle, angle_max=spec.max_angle,
            angle_increment=spec.angle_increment, time_increment=0.0,
            scan_time=self._scan_time, range_min=spec.range_min, range_max=spec.range_max,
            ranges=ranges.astype(np.float32))

    def point_cloud(self) -> PointCloudData | None:
        """Every ring of the lidar from the current state, cast in one ``mj_multiRay``
        (REP-117 ranges, float32, ``(rings, samples)``); ``None`` without a lidar."""
        spec = self._lidar
        if spec is None:
            return None
        ranges = self._cast(slice(None), spec.vertical_samples == 1)
        return PointCloudData(
            frame_id=spec.frame_id, ranges=ranges.astype(np.float32).reshape(
                spec.vertical_samples, spec.samples),
            ring_angles=spec.ring_angles(), beam_angles=spec.beam_angles(),
            range_min=spec.range_min, range_max=spec.range_max)

    def _cast(self, rows: slice, planar: bool) -> np.ndarray:
        """Ranges (float64, REP-117, noise added) of the lidar beams ``rows``."""
        spec = self._lidar
        with self._scan_lock:
            data = self._scan_data
            with self._lock:  # a consistent snapshot: one copy of the configuration
                data.qpos[:] = self.data.qpos
                world_moved, self._world_moved = self._world_moved, False
            mujoco.mj_kinematics(self.model, data)
            if world_moved:
                self._scene.sync(data)
            self._ray_pnt[:] = data.site_xpos[self._site]
            rot = data.site_xmat[self._site].reshape(3, 3)
            local = self._local_dirs[rows]
            n = len(local)
            vec, geom, dist = self._ray_vec[:n], self._ray_geom[:n], self._ray_dist[:n]
            mujoco.mju_mulMatMatT(vec, local, rot)  # beams in world
            # A planar fan only meets geoms whose bounding box crosses its plane.
            self._scene.cast(self._ray_pnt, vec, geom, dist, spec.range_max,
                             plane_normal=rot[:, 2].copy() if planar else None)
            ranges = dist.copy()
            miss = geom < 0
            if self._noise_stddev > 0.0 or self._noise_mean != 0.0:
                ranges += self._rng.normal(self._noise_mean, self._noise_stddev, ranges.shape)
        np.putmask(ranges, miss, np.inf)
        np.putmask(ranges, ranges > spec.range_max, np.inf)
        np.putmask(ranges, ranges < spec.range_min, -np.inf)
        return ranges

    def odometry(self) -> OdometrySample | None:
        """Root pose and twist (twist in the root frame), as mirrored or as dynamics left
        them; ``None`` before any pose is known."""
        if not self._pose_known:
            return None
        with self._lock:
            qpos, qvel = self.data.qpos, self.data.qvel
            pose = qpos[self._pose_xyzw]            # one copy: (x, y, z, qx, qy, qz, qw)
            twist = np.empty(6)
            twist[3:] = qvel[self._free_dof + 3:self._free_dof + 6]
            mujoco.mju_negQuat(self._quat_neg, qpos[self._free_qpos + 3:self._free_qpos + 7])
            mujoco.mju_rotVecQuat(twist[:3], qvel[self._free_dof:self._free_dof + 3],
                                  self._quat_neg)
        return OdometrySample(pose[:3], pose[3:], twist[:3], twist[3:], 0, 'odom',
                              self._robot.root_link)

    def joint_state(self) -> JointStateSample | None:
        """Positions and velocities of :attr:`joint_names`; ``None`` before any are known."""
        if not self._joints_known:
            return None
        with self._lock:
            return JointStateSample(names=self._joint_names,
                                    positions=self.data.qpos[self._qpos_adr].copy(),
                                    velocities=self.data.qvel[self._dof_adr].copy())

    def step(self, duration: float, wheel_velocities: dict[str, float] | None = None) -> None:
        """Advance the dynamics by ``duration`` s (rounded to whole timesteps, at least one).

        Wheels are velocity-servoed to ``wheel_velocities`` (rad/s; missing wheels: 0); other
        joints hold their current positions.

        :raise BackendError: a non-wheel joint in ``wheel_velocities``, or a bad duration
        """
        if not np.isfinite(duration) or duration < 0:
            raise BackendError(f'step duration must be finite and >= 0, got {duration}')
        ctrl_wheels = np.zeros(len(self._wheel_names))
        for name, value in (wheel_velocities or {}).items():
            row = self._wheel_index.get(name)
            if row is None:
                raise BackendError(f'"{name}" is not a wheel joint (wheels: '
                                   f'{list(self._wheel_names)})')
            if not np.isfinite(value):
                raise BackendError(f'wheel velocity for "{name}" is not finite: {value}')
            ctrl_wheels[row] = value
        nstep = max(1, int(round(duration / self.model.opt.timestep)))
        with self._lock:
            self.data.ctrl[self._wheel_act] = ctrl_wheels
            self.data.ctrl[self._hold_act] = self.data.qpos[self._hold_qpos]
            mujoco.mj_step(self.model, self.data, nstep)
            self._dirty = True
            self._world_moved = True  # world bodies may have moved: the scan scene syncs
            self._pose_known = self._joints_known = True

    def close(self) -> None:
        """Nothing to release (the model lives in this process)."""

    # -- helpers ----------------------------------------------------------------------------

    def lidar_pose(self) -> tuple[np.ndarray, np.ndarray]:
        """World position and ``(x, y, z, w)`` orientation of the lidar sensor frame."""
        if self._lidar is None:
            raise BackendError(f'robot "{self._robot.name}" has no lidar')
        with self._lock:
            self._update_kinematics()
            pos = self.data.site_xpos[self._site].copy()
            quat = np.zeros(4)
            mujoco.mju_mat2Quat(quat, self.data.site_xmat[self._site])
        return pos, quat_wxyz_to_xyzw(quat)

