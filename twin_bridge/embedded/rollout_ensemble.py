"""Physics prediction: an ensemble of MuJoCo rollouts of the twin from its mirrored state.

Each prediction starts from a copy of the mirrored state (written into MjData of the
ensemble's own; the live backend's MjData is only read through its public API) and drives
the wheel velocity servos with the odometry twist through the wheel geometry, open-loop, for
``horizon`` seconds. ``members`` rollouts run in one ``mujoco.rollout`` call on a persistent
thread pool (the GIL is released). Members differ by seeded perturbations: their initial
twist and pose, a constant twist acceleration over the horizon (the "control noise": the
robot will not keep its twist exactly) and the wheels' friction.

The rollout model is a copy of the backend's with its own timestep (default 10 ms; the
velocity servos are implicit under ``implicitfast``, so this is stable) and, by default,
thin wheel tyres: a wide cylinder touches the ground at both rims, and the two contacts
scrub against every turn (about 8 % less yaw rate than the servos command); one contact per
wheel matches the diff-drive kinematics the robot's odometry assumes.

Contacts are found after the rollout from its states: the robot's bounding sphere (from its
geoms at the start) is tested against the world geoms' bounding boxes for every member and
step at once (numpy); only the states it flags get an exact ``mj_collision`` in scratch
data, member by member in time order until the first contact between a robot geom and a
world geom. The floor (planes, and geoms whose top is within ``support_height`` of the
robot's start height) does not count.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
import math
import os

import mujoco
from mujoco import rollout as mj_rollout
import numpy as np

from twin_bridge.core.state import JointStateSample, OdometrySample
from twin_bridge.description.wheel_geometry import WheelGeometry
from twin_bridge.embedded.embedded_backend import ROBOT_PREFIX, EmbeddedBackend
from twin_bridge.embedded.mujoco_robot import FREE_JOINT_NAME, thin_wheel_tyres
from twin_bridge.embedded.rollout_contacts import ContactFinder, PredictedContact
from twin_bridge.errors import BackendError

__all__ = ['EnsembleNoise', 'EnsemblePrediction', 'PredictedContact', 'RolloutEnsemble']

_STATE_SPEC = mujoco.mjtState.mjSTATE_FULLPHYSICS


@dataclass(frozen=True)
class EnsembleNoise:
    """Standard deviations of the seeded per-member perturbations (all >= 0).

    ``linear_velocity`` (m/s) and ``angular_velocity`` (rad/s) perturb the initial twist;
    ``linear_acceleration`` (m/s^2) and ``angular_acceleration`` (rad/s^2) are constant over
    the horizon, so a member's commanded twist ramps away from the start; ``position`` (m) and
    ``yaw`` (rad) perturb the start pose; ``friction`` is the relative spread of the wheels'
    sliding friction. The defaults hold the stand-in's figure-eight 85-95 % of the time
    (``bench/bench_prediction.py``).
    """

    linear_velocity: float = 0.005
    angular_velocity: float = 0.01
    linear_acceleration: float = 0.03
    angular_acceleration: float = 0.1
    position: float = 0.001
    yaw: float = 0.002
    friction: float = 0.1

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f'EnsembleNoise.{name} must be finite and >= 0, got {value}')


@dataclass(frozen=True)
class EnsemblePrediction:
    """An ensemble's predicted paths: ``times`` (s after ``stamp_ns``, from 0, ``n`` steps).

    ``member_x``/``member_y``/``member_yaw`` are ``(members, n)`` (yaw unwrapped); ``x``, ``y``,
    ``yaw`` the ensemble mean; ``covariance`` ``(n, 3, 3)`` of ``(x, y, yaw)``; ``low``/``high``
    ``(n, 3)`` the 5 % and 95 % quantiles. ``contact`` is the earliest contact of any member
    (``None`` without one); ``member_contact_times`` ``(members,)`` (``inf`` without contact).
    """

    stamp_ns: int
    times: np.ndarray
    member_x: np.ndarray
    member_y: np.ndarray
    member_yaw: np.ndarray
    x: np.ndarray
    y: np.ndarray
    yaw: np.ndarray
    covariance: np.ndarray
    low: np.ndarray
    high: np.ndarray
    contact: PredictedContact | None
    member_contact_times: np.ndarray

    @property
    def time_to_collision(self) -> float:
        """Seconds to the earliest predicted contact (``inf`` without one)."""
        return math.inf if self.contact is None else self.contact.time

    @property
    def collision_probability(self) -> float:
        """Fraction of members that touch the world within the horizon."""
        return float(np.mean(np.isfinite(self.member_contact_times)))


class RolloutEnsemble:
    """Batched physics rollouts of an :class:`EmbeddedBackend`'s robot (see the module doc).

    :param backend: the twin whose model (world and robot) is rolled out; its MjData is never
        touched (:meth:`predict_from_backend` reads the mirrored state through its API)
    :param geometry: the robot's differential drive (wheel joints, radius, separation)
    :param members: ensemble size (>= 1)
    :param horizon: seconds per rollout
    :param timestep: dynamics step of the rollout model (s)
    :param noise: the member perturbations (:class:`EnsembleNoise`; all zero: identical members)
    :param seed: seed of the perturbations (``None``: fresh entropy); all randomness comes from it
    :param nthread: rollout threads (default: ``min(2, cpu count)``; 0 runs on the caller)
    :param thin_wheels: model the tyres as thin discs (one contact each; see the module doc)
    :param support_height: world geoms whose top is within this of the start height are floor
    :raise BackendError: bad parameters, or wheel joints/actuators the model does not have
    """

    def __init__(self, backend: EmbeddedBackend, geometry: WheelGeometry, *, members: int = 64,
                 horizon: float = 1.0, timestep: float = 0.01,
                 noise: EnsembleNoise | None = None, seed: int | None = None,
                 nthread: int | None = None, thin_wheels: bool = True,
                 support_height: float = 0.01) -> None:
        if members < 1:
            raise BackendError(f'ensemble members must be >= 1, got {members}')
        if not (math.isfinite(horizon) and horizon > 0 and math.isfinite(timestep)
                and timestep > 0):
            raise BackendError(f'horizon and timestep must be finite and > 0, got {horizon}, '
                               f'{timestep}')
        self.backend, self.geometry = backend, geometry
        self.members, self.horizon, self.timestep = int(members), float(horizon), float(timestep)
        self.nstep = max(1, int(round(self.horizon / self.timestep)))
        self.noise = noise or EnsembleNoise()
        self.rng = np.random.default_rng(seed)
        self.model = copy.copy(backend.model)
        self.model.opt.timestep = self.timestep
        self._resolve_ids(backend)
        if thin_wheels:
            self._thin_wheels()
        self._base_friction = self.model.geom_friction[self._wheel_geoms, 0].copy()
        self._models = [self.model]
        if self.noise.friction > 0:
            self._models = [copy.copy(self.model) for _ in range(self.members)]
        self.nthread = min(2, os.cpu_count() or 1) if nthread is None else int(nthread)
        self._datas = [mujoco.MjData(self.model) for _ in range(max(1, self.nthread))]
        self._pool = mj_rollout.Rollout(nthread=self.nthread)
        self._scratch = mujoco.MjData(self.model)
        self.nstate = mujoco.mj_stateSize(self.model, _STATE_SPEC)
        self._qpos_off = mujoco.mj_stateSize(self.model, mujoco.mjtState.mjSTATE_TIME)
        self._contacts = ContactFinder(self.model, self._robot_root, support_height)

    # -- construction -----------------------------------------------------------------------

    def _resolve_ids(self, backend: EmbeddedBackend) -> None:
        m, robot = self.model, backend.robot
        free = m.joint(ROBOT_PREFIX + FREE_JOINT_NAME)
        self._free_qpos, self._free_dof = int(free.qposadr[0]), int(free.dofadr[0])
        self._robot_root = int(m.jnt_bodyid[free.id])
        try:
            wheels = [m.joint(ROBOT_PREFIX + n) for n in self.geometry.joint_names]
            self._wheel_act = np.array([m.actuator(ROBOT_PREFIX + n).id
                                        for n in self.geometry.joint_names], dtype=np.intp)
        except KeyError as exc:
            raise BackendError(f'wheel joints {self.geometry.joint_names} have no velocity '
                               f'actuators in the model: {exc}') from exc
        self._wheel_dof = np.array([int(j.dofadr[0]) for j in wheels], dtype=np.intp)
        wheel_bodies = [int(j.bodyid[0]) for j in wheels]
        self._wheel_geoms = np.flatnonzero(np.isin(m.geom_bodyid, wheel_bodies))
        self._joint_adr: dict[str, tuple[int, int]] = {}
        hold_act, hold_qpos = [], []
        mimics = {j.name for j in robot.joints if j.mimic_joint is not None}
        for name in robot.movable_joint_names:
            joint = m.joint(ROBOT_PREFIX + name)
            self._joint_adr[name] = (int(joint.qposadr[0]), int(joint.dofadr[0]))
            if name in self.geometry.joint_names or name in mimics:
                continue
            try:
                hold_act.append(m.actuator(ROBOT_PREFIX + name).id)
            except KeyError:
                continue
            hold_qpos.append(int(joint.qposadr[0]))
        self._hold_act = np.array(hold_act, dtype=np.intp)
        self._hold_qpos = np.array(hold_qpos, dtype=np.intp)
        self._subset: dict[tuple[str, ...], tuple[np.ndarray, np.ndarray]] = {}

    def _thin_wheels(self) -> None:
        thin_wheel_tyres(self.model, np.unique(self.model.geom_bodyid[self._wheel_geoms]))

    def close(self) -> None:
        """Stop the thread pool."""
        self._pool.close()

    def __enter__(self) -> RolloutEnsemble:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- state and controls -----------------------------------------------------------------

    def initial_state(self, odometry: OdometrySample,
                      joints: JointStateSample | None = None) -> np.ndarray:
        """The full physics state ``(nstate,)`` of the mirrored sample (root frame twist),
        world bodies at rest. Wheel velocities follow the odometry twist.

        :raise BackendError: a joint name the robot does not have as a movable joint
        """
        d = self._scratch
        mujoco.mj_resetData(self.model, d)
        a, v = self._free_qpos, self._free_dof
        d.qpos[a:a + 3] = odometry.position
        q = odometry.orientation
        d.qpos[a + 3:a + 7] = (q[3], q[0], q[1], q[2])
        mujoco.mju_rotVecQuat(d.qvel[v:v + 3], odometry.linear_velocity, d.qpos[a + 3:a + 7])
        d.qvel[v + 3:v + 6] = odometry.angular_velocity
        if joints is not None:
            qpos_idx, dof_idx = self._joint_indices(joints.names)
            d.qpos[qpos_idx] = joints.positions
            if joints.velocities is not None:
                d.qvel[dof_idx] = np.nan_to_num(joints.velocities)
        d.qvel[self._wheel_dof] = self.geometry.joint_velocities(
            float(odometry.linear_velocity[0]), float(odometry.angular_velocity[2]))
        state = np.empty(self.nstate)
        mujoco.mj_getState(self.model, d, state, _STATE_SPEC)
        return state

    def _joint_indices(self, names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        cached = self._subset.get(names)
        if cached is None:
            unknown = [n for n in names if n not in self._joint_adr]
            if unknown:
                raise BackendError(f'unknown joint(s) {unknown}; movable joints are '
                                   f'{list(self._joint_adr)}')
            adr = np.array([self._joint_adr[n] for n in names], dtype=np.intp).reshape(-1, 2)
            cached = (adr[:, 0], adr[:, 1])
            if len(self._subset) >= 32:
                del self._subset[next(iter(self._subset))]
            self._subset[names] = cached
        return cached

    def perturbed_inputs(self, state: np.ndarray, linear: float, angular: float
                         ) -> tuple[np.ndarray, np.ndarray]:
        """Member initial states ``(members, nstate)`` and controls ``(members, nstep, nu)``
        for a start ``state`` and twist, drawn from :attr:`rng` (and friction, written into
        the member models)."""
        n, k, noise, rng = self.members, self.nstep, self.noise, self.rng
        draw = rng.standard_normal((n, 6))
        states = np.tile(state, (n, 1))
        qa, qv = self._qpos_off + self._free_qpos, self._qpos_off + self.model.nq + self._free_dof
        v0 = linear + noise.linear_velocity * draw[:, 0]
        w0 = angular + noise.angular_velocity * draw[:, 1]
        states[:, qa] += noise.position * draw[:, 2]
        states[:, qa + 1] += noise.position * draw[:, 3]
        _turn_quaternions(states[:, qa + 3:qa + 7], noise.yaw * draw[:, 4])
        _set_planar_twist(states, qa, qv, v0, w0)
        wl, wr = self.geometry.joint_velocities(v0, w0)
        wheel_cols = self._qpos_off + self.model.nq + self._wheel_dof
        states[:, wheel_cols[0]], states[:, wheel_cols[1]] = wl, wr
        # Constant accelerations over the horizon, linear and angular independent.
        t = (np.arange(k) + 1.0) * self.timestep
        accel = rng.standard_normal((n, 2)) * (noise.linear_acceleration,
                                               noise.angular_acceleration)
        v = v0[:, None] + accel[:, :1] * t
        w = w0[:, None] + accel[:, 1:] * t
        control = np.zeros((n, k, self.model.nu))
        control[:, :, self._wheel_act[0]], control[:, :, self._wheel_act[1]] = \
            self.geometry.joint_velocities(v, w)
        control[:, :, self._hold_act] = state[self._qpos_off + self._hold_qpos]
        if noise.friction > 0:
            scale = np.clip(1.0 + noise.friction * draw[:, 5], 0.05, None)
            for model, s in zip(self._models, scale, strict=True):
                model.geom_friction[self._wheel_geoms, 0] = self._base_friction * s
        return states, control

    # -- rollouts ---------------------------------------------------------------------------

    def rollout(self, states: np.ndarray, control: np.ndarray) -> np.ndarray:
        """``mujoco.rollout`` of ``states`` ``(members, nstate)`` under ``control``
        ``(members, nstep, nu)``: the states after every step ``(members, nstep, nstate)``."""
        models = self._models[:len(states)] if len(self._models) > 1 else self.model
        out, _ = self._pool.rollout(models, self._datas, states, control)
        return out

    def reference_rollout(self, states: np.ndarray, control: np.ndarray) -> np.ndarray:
        """The same as :meth:`rollout` by a plain Python loop of ``mj_step`` (for tests)."""
        out = np.empty((len(states), control.shape[1], self.nstate))
        d = mujoco.MjData(self.model)
        for i, (state, ctrl) in enumerate(zip(states, control, strict=True)):
            model = self._models[i] if len(self._models) > 1 else self.model
            mujoco.mj_resetData(model, d)
            mujoco.mj_setState(model, d, state, _STATE_SPEC)
            for k in range(ctrl.shape[0]):
                d.ctrl[:] = ctrl[k]
                mujoco.mj_step(model, d)
                mujoco.mj_getState(model, d, out[i, k], _STATE_SPEC)
        return out

    def predict(self, odometry: OdometrySample, joints: JointStateSample | None = None,
                ) -> EnsemblePrediction:
        """Roll the ensemble out from a mirrored sample (pose and twist in the root frame).

        :raise BackendError: a non-finite pose or twist, or an unknown joint
        """
        values = np.r_[odometry.position, odometry.orientation, odometry.linear_velocity,
                       odometry.angular_velocity]
        if not np.all(np.isfinite(values)):
            raise BackendError(f'ensemble prediction needs a finite pose and twist: {values}')
        state = self.initial_state(odometry, joints)
        states, control = self.perturbed_inputs(state, float(odometry.linear_velocity[0]),
                                                float(odometry.angular_velocity[2]))
        out = self.rollout(states, control)
        return self.summarise(int(odometry.stamp_ns), states, out)

    def predict_from_backend(self) -> EnsemblePrediction | None:
        """:meth:`predict` from the backend's mirrored state (``None`` before a pose is known)."""
        odometry = self.backend.odometry()
        if odometry is None:
            return None
        return self.predict(odometry, self.backend.joint_state())

    def summarise(self, stamp_ns: int, states: np.ndarray,
                  out: np.ndarray) -> EnsemblePrediction:
        """Statistics and contacts of rollout results (initial states prepended at time 0)."""
        qa = self._qpos_off + self._free_qpos
        traj = np.concatenate([states[:, None, :], out], axis=1)
        px, py = traj[:, :, qa], traj[:, :, qa + 1]
        qw, qx, qy, qz = (traj[:, :, qa + 3 + i] for i in range(4))
        yaw = np.unwrap(np.arctan2(2 * (qw * qz + qx * qy), 1 - 2 * (qy * qy + qz * qz)), axis=1)
        times = np.arange(traj.shape[1]) * self.timestep
        poses = np.stack([px, py, yaw], axis=-1)                   # (members, n, 3)
        mean = poses.mean(axis=0)
        dev = poses - mean
        cov = np.einsum('mni,mnj->nij', dev, dev) / max(1, len(poses) - 1)
        low, high = np.quantile(poses, [0.05, 0.95], axis=0)
        contact_times, contact = self._contacts.first_contacts(traj, times, qa)
        return EnsemblePrediction(
            stamp_ns=stamp_ns, times=times, member_x=px, member_y=py, member_yaw=yaw,
            x=mean[:, 0], y=mean[:, 1], yaw=mean[:, 2], covariance=cov, low=low, high=high,
            contact=contact, member_contact_times=contact_times)


def _turn_quaternions(quats: np.ndarray, angles: np.ndarray) -> None:
    """Turn ``(w, x, y, z)`` quaternions (rows, in place) about the world z axis."""
    c, s = np.cos(0.5 * angles), np.sin(0.5 * angles)
    w, x, y, z = quats.T.copy()
    quats[:, 0] = c * w - s * z
    quats[:, 1] = c * x - s * y
    quats[:, 2] = c * y + s * x
    quats[:, 3] = c * z + s * w


def _set_planar_twist(states: np.ndarray, qa: int, qv: int, linear: np.ndarray,
                      angular: np.ndarray) -> None:
    """Set each member's free-joint velocity to forward ``linear`` along its heading (world
    frame) and yaw rate ``angular`` (body frame, about the body z axis)."""
    qw, qx, qy, qz = (states[:, qa + 3 + i] for i in range(4))
    heading_x = 1 - 2 * (qy * qy + qz * qz)
    heading_y = 2 * (qx * qy + qw * qz)
    heading_z = 2 * (qx * qz - qw * qy)
    states[:, qv] = linear * heading_x
    states[:, qv + 1] = linear * heading_y
    states[:, qv + 2] = linear * heading_z
    states[:, qv + 3:qv + 5] = 0.0
    states[:, qv + 5] = angular
