"""Replay a physical robot's bag through the same :class:`DigitalTwin` the live node runs.

Every message goes to the twin in receive-time order with its recorded receive time as the
clock (so stamp checks see what they saw live), and the drift check runs after each one,
as :meth:`DigitalTwin.update` does; predictions are made at ``prediction_rate`` Hz of bag
time. Nothing here needs ROS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
import time
from typing import Any

import numpy as np

from twin_bridge.core.transforms import yaw_from_quat
from twin_bridge.recording import samples as bs
from twin_bridge.recording.bag_reader import BagError, BagMessage, BagReader
from twin_bridge.recording.replay_output import VirtualBag
from twin_bridge.twin.digital_twin import DigitalTwin, DriftReport, TwinConfig
from twin_bridge.twin.drift.monitor import CAUSES

__all__ = ['DriftPoint', 'ReplayOptions', 'ReplayResult', 'ReplayTopics', 'replay']

MAX_ROWS = 2000  # residual rows and trajectory points kept (older ones thinned)


@dataclass(frozen=True)
class ReplayTopics:
    """The physical robot's topics in the bag (``scan`` and ``cmd_vel`` are optional)."""

    joint_states: str = '/joint_states'
    odom: str = '/odom'
    scan: str = '/scan'
    cmd_vel: str = '/cmd_vel'

    @classmethod
    def under(cls, namespace: str) -> ReplayTopics:
        """The default names under ``namespace`` (e.g. ``/robot1``)."""
        ns = '/' + namespace.strip('/') if namespace.strip('/') else ''
        return cls(*(ns + getattr(cls, n) for n in ('joint_states', 'odom', 'scan',
                                                      'cmd_vel')))


@dataclass(frozen=True)
class ReplayOptions:
    """How to replay: the twin's world and robot, pacing, prediction, and outputs.

    ``rate`` 0 runs as fast as it can, 1 at real time, 2 twice as fast ...;
    ``output_bag`` (a new folder) receives every input message plus the virtual streams.
    """

    world: str = 'warehouse'
    robot: str | None = None
    xacro_args: dict[str, str] | None = None
    topics: ReplayTopics = field(default_factory=ReplayTopics)
    rate: float = 0.0
    prediction_rate: float = 10.0
    ensemble_rate: float = 0.0
    config: TwinConfig = field(default_factory=TwinConfig)
    output_bag: Path | None = None
    odom_frame: str = 'odom'


@dataclass(frozen=True)
class DriftPoint:
    """The verdicts after one physical scan was compared (``t``: s after the bag start)."""

    t: float
    stamp_ns: int
    levels: dict[str, int]
    estimates: dict[str, dict[str, float]]


@dataclass
class ReplayResult:
    """What a replay saw and concluded (see :mod:`replay_report` for JSON and PNG)."""

    bag: str
    start_ns: int
    duration_s: float = 0.0
    wall_s: float = 0.0
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    rejections: list[str] = field(default_factory=list)
    drift: list[DriftPoint] = field(default_factory=list)
    drift_counts: dict[str, int] = field(default_factory=dict)
    physical: list[tuple[float, float, float, float]] = field(default_factory=list)
    virtual: list[tuple[float, float, float, float]] = field(default_factory=list)
    corrections: list[tuple[float, float, float, float]] = field(default_factory=list)
    commands: list[tuple[float, float, float]] = field(default_factory=list)
    residual_times: list[float] = field(default_factory=list)
    residuals: list[np.ndarray] = field(default_factory=list)
    residual_angles: tuple[float, float] = (0.0, 0.0)
    prediction: dict[str, float] = field(default_factory=dict)
    output_bag: str | None = None

    @property
    def speed(self) -> float:
        """Bag time per wall time (20 = twenty times faster than real time)."""
        return self.duration_s / self.wall_s if self.wall_s > 0 else float('inf')

    def verdict_sequence(self) -> list[tuple[int, tuple[int, ...]]]:
        """``(scan stamp, level per cause)`` for every compared scan, in order."""
        return [(p.stamp_ns, tuple(p.levels[c] for c in CAUSES)) for p in self.drift]

    def first_alarms(self) -> dict[str, dict[str, float]]:
        """Per cause that was raised: when (s) it first reached WARN and ERROR."""
        out: dict[str, dict[str, float]] = {}
        for point in self.drift:
            for cause, level in point.levels.items():
                for lvl, word in ((1, 'warn_s'), (2, 'error_s')):
                    if level >= lvl and word not in out.setdefault(cause, {}):
                        out[cause][word] = point.t
        return {c: v for c, v in out.items() if v}


def _thin(items: list, *more: list) -> None:
    if len(items) > MAX_ROWS:
        for seq in (items, *more):
            del seq[1::2]


class _Replayer:
    def __init__(self, twin: DigitalTwin, options: ReplayOptions, result: ReplayResult,
                 out: VirtualBag | None) -> None:
        self.twin, self.options, self.result, self.out = twin, options, result, out
        self.next_prediction = 0.0
        self.next_ensemble = 0.0
        topics = options.topics
        self.streams = {topics.joint_states: 'joint_states', topics.odom: 'odom',
                        topics.scan: 'scan', topics.cmd_vel: 'cmd_vel'}

    def feed(self, msg: BagMessage, t: float) -> None:
        stream = self.streams[msg.topic]
        twin, result, now, wall_ns = self.twin, self.result, msg.log_time_ns * 1e-9, msg.log_time_ns
        counts = result.counts.setdefault(stream, {'received': 0, 'rejected': 0})
        counts['received'] += 1
        decoded = bs.decode(msg.data, msg.msgtype)
        if stream == 'cmd_vel':
            result.commands.append((t, *bs.twist_of(decoded, msg.msgtype)))
            return
        if stream == 'joint_states':
            outcome = twin.on_joint_state(bs.joint_state_sample(decoded), now, wall_ns)
        elif stream == 'odom':
            sample = bs.odometry_sample(decoded)
            outcome = twin.on_odometry(sample, now, wall_ns)
            if outcome.accepted and (not result.physical or t - result.physical[-1][0] >= 0.1):
                result.physical.append((t, *_planar(sample)))
                state = twin.backend.odometry()
                if state is not None:
                    result.virtual.append((t, *_planar(state)))
                _thin(result.physical)
                _thin(result.virtual)
        else:
            if twin.drift_monitor is None:
                return
            outcome = twin.on_scan(bs.scan_sample(decoded), now, wall_ns)
            if outcome.accepted and self.out is not None:
                self.out.virtual_scan(twin, msg.log_time_ns)
        if not outcome.accepted:
            counts['rejected'] += 1
            if len(result.rejections) < 20:
                result.rejections.append(f'{t:.3f} s: {outcome.describe()}')
        elif self.out is not None and outcome.output is not None:
            self.out.mirrored(stream, outcome.output, msg.log_time_ns)
        report = twin.process_drift()
        if report is not None:
            self._drift(report, t, msg.log_time_ns)
        self._predict(t, msg.log_time_ns)

    def _drift(self, report: DriftReport, t: float, log_ns: int) -> None:
        result = self.result
        result.drift.append(DriftPoint(
            t, report.stamp_ns, {c: int(v.level) for c, v in report.verdicts.items()},
            {c: dict(v.estimates) for c, v in report.verdicts.items() if v.estimates}))
        if report.residual is not None:
            res = report.residual
            result.residual_angles = (float(res.angle_min), float(res.angle_max))
            result.residual_times.append(t)
            result.residuals.append(np.asarray(res.ranges, dtype=np.float32))
            _thin(result.residuals, result.residual_times)
        if report.pose_correction is not None:
            result.corrections.append((t, *map(float, report.pose_correction.pose)))
        if self.out is not None:
            self.out.drift(report, log_ns)

    def _predict(self, t: float, log_ns: int) -> None:
        options = self.options
        if options.prediction_rate > 0 and t >= self.next_prediction:
            self.next_prediction = t + 1.0 / options.prediction_rate
            path = self.twin.predict()
            if path is not None and self.out is not None:
                self.out.path(path, log_ns)
        if options.ensemble_rate > 0 and t >= self.next_ensemble:
            self.next_ensemble = t + 1.0 / options.ensemble_rate
            self.twin.predict_ensemble()


def _planar(odom: Any) -> tuple[float, float, float]:
    return float(odom.position[0]), float(odom.position[1]), yaw_from_quat(odom.orientation)


def replay(bag: str | Path, options: ReplayOptions | None = None,
           progress: Callable[[float, float], None] | None = None) -> ReplayResult:
    """Run the twin over ``bag``; :return: what it found.

    :param progress: called now and then with ``(bag seconds done, bag duration)``
    :raise BagError: when the bag cannot be read or lacks joint_states or odom
    """
    options = options or ReplayOptions()
    with BagReader(bag) as reader:
        topics = reader.topics
        wanted = options.topics
        for name, kind in ((wanted.joint_states, bs.JOINT_STATE), (wanted.odom, bs.ODOMETRY)):
            if topics.get(name) != kind:
                listing = ', '.join(f'{t} ({m})' for t, m in sorted(topics.items())) or 'none'
                raise BagError(f'{bag}: no {name} ({kind}) to replay; topics: {listing}')
        inputs = {wanted.joint_states, wanted.odom}
        if topics.get(wanted.scan) == bs.LASER_SCAN:
            inputs.add(wanted.scan)
        if topics.get(wanted.cmd_vel) in (bs.TWIST, bs.TWIST_STAMPED):
            inputs.add(wanted.cmd_vel)
        start = reader.start_ns
        result = ReplayResult(str(bag), start, reader.duration_ns * 1e-9)
        twin = DigitalTwin(options.world, options.robot, config=options.config,
                           xacro_args=options.xacro_args, now=start * 1e-9)
        out = VirtualBag(options.output_bag, reader, options.odom_frame) \
            if options.output_bag is not None else None
        replayer = _Replayer(twin, options, result, out)
        wall0 = time.perf_counter()
        last_progress = wall0
        try:
            for msg in reader.messages(None if out is not None else inputs):
                t = (msg.log_time_ns - start) * 1e-9
                if out is not None:
                    out.copy(msg)
                if msg.topic not in inputs:
                    continue
                if options.rate > 0:
                    delay = wall0 + t / options.rate - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)
                replayer.feed(msg, t)
                if progress is not None and time.perf_counter() - last_progress > 1.0:
                    last_progress = time.perf_counter()
                    progress(t, result.duration_s)
        finally:
            result.wall_s = time.perf_counter() - wall0
            result.drift_counts = dict(twin.drift_counts)
            result.prediction = {k: float(v) for k, v in twin.prediction.status().values.items()
                                 if isinstance(v, (int, float))}
            if out is not None:
                out.close()
                result.output_bag = str(options.output_bag)
            twin.close()
    return result
