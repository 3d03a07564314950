"""One robot of a fleet model, seen as a :class:`SimulatorBackend` of its own."""

from __future__ import annotations

import threading

import mujoco
import numpy as np

from twin_bridge.core.backend import SimulatorBackend
from twin_bridge.core.lidar import LidarSpec, ScanData
from twin_bridge.core.quoting import quote_names
from twin_bridge.core.state import JointStateSample, OdometrySample
from twin_bridge.core.transforms import quat_from_rpy, quat_multiply, quat_to_matrix
from twin_bridge.description.robot_description import RobotDescription
from twin_bridge.embedded.mujoco_robot import FREE_JOINT_NAME
from twin_bridge.errors import BackendError
from twin_bridge.fleet.fleet_spec import StartPose

__all__ = ['RobotSlot']


class RobotSlot(SimulatorBackend):
    """A robot's share of a fleet's MuJoCo model: its free joint, joints and scans.

    The robot's odometry frame starts at ``start`` in the world: :meth:`mirror` places the
    root at ``start * odometry`` and :meth:`odometry` reads it back in the odometry frame, so
    every robot's odometry may start at its own origin. Mirroring is kinematic (pose and
    joints written, mimic joints follow their masters); scans are cast for all robots at once
    by :class:`~twin_bridge.fleet.fleet_scan.FleetScanner`, which hands each slot its own
    (:meth:`deliver`); :meth:`scan` returns each delivered scan once.

    :param model: the fleet's compiled model
    :param data: the fleet's state, shared by every slot
    :param lock: guards ``data`` (shared by every slot)
    :param prefix: the robot's name prefix in the model (``robot1/``)
    :param start: where the robot's odometry frame lies in the world
    """

    def __init__(self, model: mujoco.MjModel, data: mujoco.MjData, lock: threading.Lock,
                 robot: RobotDescription, prefix: str, start: StartPose) -> None:
        self._robot, self._data, self._lock = robot, data, lock
        self.prefix = prefix
        free = model.joint(prefix + FREE_JOINT_NAME)
        self._free_qpos = int(free.qposadr[0])
        self._free_dof = int(free.dofadr[0])
        #: Body id of the robot's root in the model.
        self.root_body = int(model.body(prefix + robot.root_link).id)
        self._start_pos = np.array([start.x, start.y, start.z])
        self._start_quat = quat_from_rpy(0.0, 0.0, start.yaw)   # (x, y, z, w)
        self._start_rot = quat_to_matrix(self._start_quat)
        self._start_inv = self._start_quat * np.array([-1.0, -1.0, -1.0, 1.0])
        self._identity = not (np.any(self._start_pos) or start.yaw)
        self._joint_names = tuple(robot.movable_joint_names)
        self._index = {n: i for i, n in enumerate(self._joint_names)}
        joints = [model.joint(prefix + n) for n in self._joint_names]
        self._qpos_adr = np.array([int(j.qposadr[0]) for j in joints], dtype=np.intp)
        self._dof_adr = np.array([int(j.dofadr[0]) for j in joints], dtype=np.intp)
        mimics = [j for j in robot.joints if j.movable and j.mimic_joint is not None]
        rows = [self._index[j.name] for j in mimics]
        masters = [self._index[j.mimic_joint] for j in mimics]
        self._mimic = (self._qpos_adr[rows], self._dof_adr[rows], self._qpos_adr[masters],
                       self._dof_adr[masters], np.array([j.mimic_multiplier for j in mimics]),
                       np.array([j.mimic_offset for j in mimics]))
        self._mimic_passes = len(mimics)  # enough for any chain of mimics
        self._pose_known = self._joints_known = False
        self._scan: ScanData | None = None
        self.place(None)

    # -- SimulatorBackend ------------------------------------------------------------------
    @property
    def joint_names(self) -> tuple[str, ...]:
        """Movable joints of the robot, in URDF order."""
        return self._joint_names

    @property
    def lidar(self) -> LidarSpec | None:
        """The robot's lidar (``None``: it has none)."""
        return self._robot.lidar

    @property
    def robot(self) -> RobotDescription:
        """The robot's description."""
        return self._robot

    def place(self, odometry: OdometrySample | None) -> None:
        """Put the root at ``odometry`` (in the robot's odometry frame; ``None``: its origin,
        the start pose) without marking the pose as known."""
        self._write_pose(odometry or OdometrySample(np.zeros(3), np.array([0.0, 0, 0, 1])))

    def mirror(self, odometry: OdometrySample | None = None,
               joints: JointStateSample | None = None) -> None:
        """Write the root pose (odometry frame) and any subset of joints; see
        :meth:`SimulatorBackend.mirror`. :raise BackendError: an unknown joint name"""
        if joints is not None:
            unknown = [n for n in joints.names if n not in self._index]
            if unknown:
                raise BackendError(f'unknown joint(s) {quote_names(unknown)}; robot '
                                   f'"{self._robot.name}" has {list(self._joint_names)}')
            rows = np.array([self._index[n] for n in joints.names], dtype=np.intp)
        if odometry is not None:
            self._write_pose(odometry)
            self._pose_known = True
        if joints is not None:
            with self._lock:
                qpos, qvel = self._data.qpos, self._data.qvel
                qpos[self._qpos_adr[rows]] = joints.positions
                if joints.velocities is not None:
                    qvel[self._dof_adr[rows]] = joints.velocities
                mq, md, sq, sd, gain, offset = self._mimic
                for _ in range(self._mimic_passes):
                    qpos[mq] = gain * qpos[sq] + offset
                    qvel[md] = gain * qvel[sd]
                self._joints_known = True

    def _write_pose(self, odometry: OdometrySample) -> None:
        if self._identity:
            position, orientation = odometry.position, odometry.orientation
        else:
            position = self._start_pos + self._start_rot @ odometry.position
            orientation = quat_multiply(self._start_quat, odometry.orientation)
        a, d = self._free_qpos, self._free_dof
        with self._lock:
            qpos, qvel = self._data.qpos, self._data.qvel
            qpos[a:a + 3] = position
            qpos[a + 3] = orientation[3]
            qpos[a + 4:a + 7] = orientation[:3]
            # Free joint: linear velocity in the world frame, angular in the body frame.
            # numpy, not mju_rotVecQuat: a MuJoCo call releases the GIL, and taking it back
            # can wait for the scan thread (up to the interpreter's switch interval).
            qvel[d:d + 3] = quat_to_matrix(orientation) @ odometry.linear_velocity
            qvel[d + 3:d + 6] = odometry.angular_velocity

    def odometry(self) -> OdometrySample | None:
        """Root pose and twist in the robot's odometry frame (``None`` before a pose)."""
        if not self._pose_known:
            return None
        a, d = self._free_qpos, self._free_dof
        with self._lock:
            qpos, qvel = self._data.qpos, self._data.qvel
            position = qpos[a:a + 3].copy()
            wxyz = qpos[a + 3:a + 7].copy()
            linear_world = qvel[d:d + 3].copy()
            angular = qvel[d + 3:d + 6].copy()
        orientation = np.array([wxyz[1], wxyz[2], wxyz[3], wxyz[0]])
        linear = quat_to_matrix(orientation).T @ linear_world
        if not self._identity:
            position = self._start_rot.T @ (position - self._start_pos)
            orientation = quat_multiply(self._start_inv, orientation)
        return OdometrySample(position, orientation, linear, angular, 0, 'odom',
                              self._robot.root_link)

    def joint_state(self) -> JointStateSample | None:
        """Positions and velocities of :attr:`joint_names` (``None`` before any)."""
        if not self._joints_known:
            return None
        with self._lock:
            return JointStateSample(self._joint_names, self._data.qpos[self._qpos_adr].copy(),
                                    self._data.qvel[self._dof_adr].copy())

    def deliver(self, scan: ScanData) -> None:
        """The fleet's scanner cast ``scan`` for this robot."""
        self._scan = scan

    def scan(self) -> ScanData | None:
        """The scan delivered since the last call (``None``: none)."""
        scan, self._scan = self._scan, None
        return scan

    def step(self, duration: float, wheel_velocities: dict[str, float] | None = None) -> None:
        """Not available: a fleet twin mirrors, it runs no dynamics.

        :raise BackendError: always
        """
        raise BackendError('a fleet twin mirrors only: no dynamics (use one EmbeddedBackend '
                           'per robot to predict)')
