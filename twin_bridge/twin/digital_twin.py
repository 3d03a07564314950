"""DigitalTwin: the whole twin as one Python object (mirror, drift, prediction), no ROS."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
import threading
import time
from typing import Any

import numpy as np

from twin_bridge.core.backend import SimulatorBackend
from twin_bridge.core.lidar import ScanData
from twin_bridge.core.state import JointStateSample, OdometrySample
from twin_bridge.description.robot_description import (
    RobotDescription,
    default_robot_path,
    load_robot_description,
)
from twin_bridge.description.wheel_geometry import WheelGeometry, wheel_geometry
from twin_bridge.embedded.embedded_backend import EmbeddedBackend
from twin_bridge.embedded.rollout_ensemble import EnsemblePrediction
from twin_bridge.errors import ConfigError
from twin_bridge.twin.drift.monitor import CAUSES, DriftMonitor, Verdict
from twin_bridge.twin.drift.pose_correction import PoseCorrection
from twin_bridge.twin.prediction import PredictedPath
from twin_bridge.twin.prediction_monitor import PredictionMonitor
from twin_bridge.twin.safety.gate import CommandGate, GateConfig, GateVerdict
from twin_bridge.twin.safety.twin_gate import TwinGate
from twin_bridge.twin.stream_monitor import StreamStatus
from twin_bridge.twin.twin_session import (
    INPUT_JOINT_STATES,
    INPUT_ODOM,
    INPUT_SCAN,
    InputOutcome,
    SessionConfig,
    TwinSession,
)

__all__ = ['DigitalTwin', 'DriftReport', 'TwinConfig', 'VirtualState']


@dataclass(frozen=True)
class TwinConfig:
    """Tunables of a :class:`DigitalTwin`.

    ``session`` configures mirroring and validation (its ``scan_input`` is turned on when
    ``drift`` is); ``drift`` enables the drift check (it needs a robot with a lidar);
    ``false_alarm_rate`` is per test and per scan; ``scan_noise_stddev`` the physical lidar's
    range noise (m); ``prediction_horizon`` the predicted path's length (s),
    ``ensemble_members`` the physics ensemble's size, ``prediction_error_tolerance`` the
    1 s-ahead error p50 (m) beyond which the prediction is reported as missing;
    ``max_pending_scans`` how many physical scans wait for the odometry that
    brackets their stamp before the oldest is dropped (counted in ``drift.dropped``);
    ``gate`` configures the command gate (``None``: no gate; with ``scan_source`` it takes
    the physical scans and stops when they go stale).
    """

    session: SessionConfig = field(default_factory=SessionConfig)
    drift: bool = True
    false_alarm_rate: float = 1e-7
    scan_noise_stddev: float = 0.01
    prediction_horizon: float = 1.0
    ensemble_members: int = 32
    prediction_error_tolerance: float = 0.1
    max_pending_scans: int = 4
    inbox_size: int = 8192
    gate: GateConfig | None = field(default_factory=GateConfig)


@dataclass(frozen=True)
class VirtualState:
    """The twin's current state: its odometry (pose and twist) and joint state."""

    odometry: OdometrySample | None
    joints: JointStateSample | None


@dataclass(frozen=True)
class DriftReport:
    """What the drift check found for one physical scan.

    ``residual`` is the per-beam physical minus virtual range (NaN where either has no
    return), in the scan's layout; ``pose_correction`` the scan-matched base pose in the
    odom frame with its covariance, while the pose drifts;
    ``world_changes`` the changed places as ``(centre_x, centre_y, extent)``.
    """

    stamp_ns: int
    verdicts: dict[str, Verdict]
    residual: ScanData | None = None
    pose_correction: PoseCorrection | None = None
    world_changes: tuple[tuple[float, float, float], ...] = ()


class DigitalTwin:
    """A digital twin of one robot in one world, fed with physical samples as plain data.

    ``update`` (or the single-message ``on_*`` methods a ROS node calls) validates and
    mirrors joint states and odometry into the simulator and queues what the drift check
    needs; :meth:`process_drift` runs the drift check on queued physical scans;
    :meth:`virtual_state`, :meth:`predict`, :meth:`drift` and :meth:`statuses` answer;
    :meth:`judge_command` passes, slows or stops a velocity command (:attr:`gate`).

    The embedded model is the judge: drift and prediction run on it even when another
    backend (Gazebo) renders, loaded alongside from the same world and robot.

    Threads: call the ``on_*``/``update`` methods from one thread; :meth:`process_drift` may
    run on another (the inputs reach it through a lock-free queue, so a drift check never
    delays mirroring); :meth:`drift` and :meth:`latest_report` are safe from any thread;
    :meth:`judge_command` and the e-stop methods from one thread (any, e.g. the input one).

    :param world: a shipped world name or an SDF path
    :param robot: a :class:`RobotDescription`, a URDF/xacro path, or ``None`` (the package's)
    :param backend: the simulator to mirror into (default: the embedded one)
    :param judge: the embedded model drift, prediction and the gate use (default:
        ``backend`` if it is embedded, else one loaded from ``world`` and ``robot``)
    :param config: tunables
    :param xacro_args: xacro arguments when ``robot`` is a path
    :param now: monotonic start time (default: now)
    """

    def __init__(self, world: str | Path = 'warehouse',
                 robot: RobotDescription | str | Path | None = None, *,
                 backend: SimulatorBackend | None = None, judge: EmbeddedBackend | None = None,
                 config: TwinConfig | None = None, xacro_args: dict[str, str] | None = None,
                 now: float | None = None) -> None:
        self.config = cfg = config or TwinConfig()
        if not isinstance(robot, RobotDescription):
            robot = load_robot_description(robot or default_robot_path(), xacro_args)
        self.robot = robot
        self.backend = backend if backend is not None else EmbeddedBackend(world, robot)
        if judge is None and ((cfg.drift and robot.lidar is not None)
                              or cfg.gate is not None):
            judge = (self.backend if isinstance(self.backend, EmbeddedBackend)
                     else EmbeddedBackend(world, robot, lidar_noise=False))
        self.judge: EmbeddedBackend | None = judge
        self.wheels: WheelGeometry | None = wheel_geometry(robot)
        self.drift_monitor: DriftMonitor | None = None
        if judge is not None and cfg.drift and robot.lidar is not None:
            self.drift_monitor = DriftMonitor.from_backend(
                judge, wheels=self.wheels, noise_stddev=cfg.scan_noise_stddev,
                false_alarm_rate=cfg.false_alarm_rate)
        #: The command gate wired to the inputs (``None`` with ``config.gate`` off).
        self.safety: TwinGate | None = None
        if cfg.gate is not None and judge is not None:
            self.safety = TwinGate.from_backend(judge, cfg.gate)
        session_cfg = cfg.session
        if (self.drift_monitor is not None or self.wants_scans) and not session_cfg.scan_input:
            session_cfg = SessionConfig(**{**session_cfg.__dict__, 'scan_input': True})
        self._inbox: deque[tuple[str, Any, int]] = deque()
        self.session = TwinSession(self.backend, session_cfg,
                                   now=time.monotonic() if now is None else now, robot=robot,
                                   on_accepted=self._queue)
        ensemble_judge = judge if judge is not None else (
            self.backend if isinstance(self.backend, EmbeddedBackend) else None)
        #: Predictions (kinematic and physics ensemble) and their scores.
        self.prediction = PredictionMonitor(self.backend, self.wheels, judge=ensemble_judge,
                                            horizon=cfg.prediction_horizon,
                                            members=cfg.ensemble_members,
                                            error_tolerance=cfg.prediction_error_tolerance)
        self._drift_lock = threading.Lock()
        self._pending_scans: deque[ScanData] = deque()
        self._report: DriftReport | None = None
        #: Drift-check counts: scans checked, dropped (no odometry around their stamp in
        #: time), inputs lost because the queue was full (the check fell far behind).
        self.drift_counts = {'checked': 0, 'dropped': 0, 'overflow': 0}

    # -- inputs --------------------------------------------------------------------------
    def on_joint_state(self, sample: JointStateSample, now: float | None = None,
                       wall_ns: int | None = None) -> InputOutcome:
        """Validate and mirror one physical joint-state sample."""
        now, wall_ns = _times(now, wall_ns)
        return self.session.on_joint_state(sample, now, wall_ns)

    def on_odometry(self, sample: OdometrySample, now: float | None = None,
                    wall_ns: int | None = None) -> InputOutcome:
        """Validate and mirror one physical odometry sample."""
        now, wall_ns = _times(now, wall_ns)
        return self.session.on_odometry(sample, now, wall_ns)

    def on_scan(self, sample: ScanData, now: float | None = None,
                wall_ns: int | None = None) -> InputOutcome:
        """Validate one physical scan and queue it for the drift check."""
        now, wall_ns = _times(now, wall_ns)
        return self.session.on_scan(sample, now, wall_ns)

    def update(self, *, joints: JointStateSample | None = None,
               odometry: OdometrySample | None = None, scan: ScanData | None = None,
               now: float | None = None, wall_ns: int | None = None) -> list[InputOutcome]:
        """Feed any of a joint state, an odometry sample and a scan (in that order), then
        run the drift check on what is due. :return: one outcome per sample given"""
        outcomes = []
        if joints is not None:
            outcomes.append(self.on_joint_state(joints, now, wall_ns))
        if odometry is not None:
            outcomes.append(self.on_odometry(odometry, now, wall_ns))
        if scan is not None and (self.drift_monitor is not None or self.wants_scans):
            outcomes.append(self.on_scan(scan, now, wall_ns))
        self.process_drift()
        return outcomes

    def _queue(self, stream: str, sample: Any, stamp_ns: int) -> None:
        # On the input thread: only deque appends and reference swaps (never block).
        if self.safety is not None:
            self.safety.on_accepted(stream, sample, self.session.receive_time(stream))
        if stream == INPUT_ODOM:
            self.prediction.add_odometry(sample if sample.stamp_ns == stamp_ns
                                         else _restamp(sample, stamp_ns))
        if self.drift_monitor is None:
            return
        if len(self._inbox) >= self.config.inbox_size:
            self.drift_counts['overflow'] += 1
            return
        self._inbox.append((stream, sample, stamp_ns))

    # -- the command gate --------------------------------------------------------------
    @property
    def gate(self) -> CommandGate | None:
        """The command gate on the embedded model (``None`` with ``config.gate`` off)."""
        return None if self.safety is None else self.safety.gate

    @property
    def wants_scans(self) -> bool:
        """Whether physical scans are used (the drift check or the gate's obstacles)."""
        return self.drift_monitor is not None or (
            self.safety is not None and self.safety.wants_scans)

    def judge_command(self, linear: float, angular: float,
                      now: float | None = None) -> GateVerdict:
        """Pass, slow or stop the velocity command ``(linear m/s, angular rad/s)`` at
        monotonic time ``now`` on the newest accepted inputs (see :mod:`.safety.gate`).

        :raise ConfigError: the gate is off
        """
        return self._safety().judge(linear, angular, time.monotonic() if now is None else now)

    def engage_e_stop(self) -> None:
        """Latch the e-stop: every command is a stop until :meth:`release_e_stop`."""
        self._safety().on_e_stop(True)

    def release_e_stop(self) -> None:
        """Release the e-stop latch."""
        self._safety().on_e_stop(False)

    def _safety(self) -> TwinGate:
        if self.safety is None:
            raise ConfigError('the command gate is off (TwinConfig.gate is None)')
        return self.safety

    # -- drift -------------------------------------------------------------------------
    def process_drift(self) -> DriftReport | None:
        """Feed queued inputs to the drift check and compare the physical scans that are
        due. :return: the report of the newest scan compared now, or ``None``"""
        monitor = self.drift_monitor
        if monitor is None:
            return None
        report = None
        with self._drift_lock:
            while self._inbox:
                stream, sample, stamp_ns = self._inbox.popleft()
                if stream == INPUT_ODOM:
                    monitor.add_odometry(sample if sample.stamp_ns == stamp_ns
                                         else _restamp(sample, stamp_ns))
                elif stream == INPUT_JOINT_STATES:
                    if sample.stamp_ns != stamp_ns:
                        sample = JointStateSample(sample.names, sample.positions,
                                                  sample.velocities, sample.efforts, stamp_ns)
                    monitor.add_joints(sample)
                elif stream == INPUT_SCAN:
                    self._pending_scans.append(_stamped(sample, stamp_ns))
            while len(self._pending_scans) > self.config.max_pending_scans:
                self._pending_scans.popleft()
                self.drift_counts['dropped'] += 1
            while self._pending_scans:
                scan = self._pending_scans[0]
                if not monitor.add_scan(scan, scan.stamp_ns):
                    span = monitor.history.span
                    if span is None or scan.stamp_ns > span[1]:
                        break  # waits for the odometry after its stamp
                    self.drift_counts['dropped'] += 1  # older than the pose history
                    self._pending_scans.popleft()
                    continue
                self._pending_scans.popleft()
                self.drift_counts['checked'] += 1
                report = self._make_report(monitor, scan)
            if report is not None:
                self._report = report
        return report

    def _make_report(self, monitor: DriftMonitor, scan: ScanData) -> DriftReport:
        verdicts = monitor.verdicts()
        residual = monitor.residual()
        residual_scan = None
        if residual is not None:
            residual_scan = ScanData(scan.frame_id, scan.angle_min, scan.angle_max,
                                     scan.angle_increment, scan.time_increment, scan.scan_time,
                                     -np.inf, np.inf, residual.astype(np.float32),
                                     stamp_ns=scan.stamp_ns)
        correction = monitor.pose_correction if verdicts['pose'].level > 0 else None
        changes: tuple[tuple[float, float, float], ...] = ()
        world = verdicts['world']
        if world.level > 0:
            clusters = monitor.world_changes
            changes = tuple((float(c.centre[0]), float(c.centre[1]), float(c.extent))
                            for c in clusters) or ((world.estimates['changed_x'],
                                                    world.estimates['changed_y'],
                                                    world.estimates['changed_extent']),)
        return DriftReport(scan.stamp_ns, verdicts, residual_scan, correction, changes)

    def drift(self) -> dict[str, Verdict]:
        """The current verdict per cause (all OK without a drift check)."""
        if self.drift_monitor is None:
            return {cause: Verdict(cause) for cause in CAUSES}
        with self._drift_lock:
            return self.drift_monitor.verdicts()

    def latest_report(self) -> DriftReport | None:
        """The report of the newest physical scan compared so far."""
        return self._report

    # -- answers -------------------------------------------------------------------------
    def virtual_state(self) -> VirtualState:
        """The twin's current odometry and joint state (``None`` until mirrored)."""
        return VirtualState(self.backend.odometry(), self.backend.joint_state())

    def predict(self, time_ahead: float | None = None) -> PredictedPath | None:
        """The base path over the next ``time_ahead`` seconds (default: the configured
        horizon) from the latest mirrored state, kinematically (differential drive from the
        wheel geometry, else constant twist); scored once reality arrives. ``None`` before
        any odometry."""
        return self.prediction.kinematic(self.session.last_stamp(INPUT_ODOM), time_ahead)

    def predict_ensemble(self) -> EnsemblePrediction | None:
        """A physics ensemble over the configured horizon (``mujoco.rollout`` on the
        embedded model, wheel servos driven by the odometry twist): mean, spread, and the
        earliest predicted contact. ``None`` without a differential drive, an embedded
        model, or odometry."""
        return self.prediction.ensemble(self.session.last_stamp(INPUT_ODOM))

    def statuses(self, now: float | None = None) -> list[StreamStatus]:
        """Health, rate and latency of every input and output stream."""
        return self.session.statuses(time.monotonic() if now is None else now)

    def close(self) -> None:
        """Release the simulators and the ensemble's threads."""
        self.prediction.close()
        if self.judge is not None and self.judge is not self.backend:
            self.judge.close()
        self.backend.close()


def _times(now: float | None, wall_ns: int | None) -> tuple[float, int]:
    return (time.monotonic() if now is None else now,
            time.time_ns() if wall_ns is None else wall_ns)


def _restamp(sample: OdometrySample, stamp_ns: int) -> OdometrySample:
    return OdometrySample(sample.position, sample.orientation, sample.linear_velocity,
                          sample.angular_velocity, stamp_ns, sample.frame_id,
                          sample.child_frame_id)


def _stamped(scan: ScanData, stamp_ns: int) -> ScanData:
    if scan.stamp_ns == stamp_ns:
        return scan
    return ScanData(scan.frame_id, scan.angle_min, scan.angle_max, scan.angle_increment,
                    scan.time_increment, scan.scan_time, scan.range_min, scan.range_max,
                    scan.ranges, scan.intensities, stamp_ns)
