"""An rclpy observer recording receive-time minus header-stamp latency on many topics."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
import time
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray
from nav_msgs.msg import Odometry
import numpy as np
from rclpy.context import Context
from rclpy.node import Node
from rclpy.qos import QoSProfile, qos_profile_sensor_data
from sensor_msgs.msg import JointState, LaserScan

from twin_bridge.ros.conversions import time_to_ns
from twin_bridge.ros.private_context import PrivateContext
from twin_bridge.ros.qos import qos_profile
from twin_bridge.twin.latency_stats import LatencyStats

__all__ = ['ObservedStream', 'ObserverSession', 'StreamObserver', 'standard_streams']


@dataclass(frozen=True)
class ObservedStream:
    """A topic to observe: its type, QoS and whether to record an (x, y) trajectory."""

    topic: str
    msg_type: type
    qos: Any
    trajectory: bool = False


def _reliable(depth: int = 100) -> QoSProfile:
    return qos_profile('reliable', depth)


def standard_streams(joint_states_topic: str = 'joint_states', odom_topic: str = 'odom',
                     virtual_prefix: str = 'virtual/', physical_scan: bool = False,
                     scan_topic: str = 'scan') -> dict[str, ObservedStream]:
    """The demo's streams, labelled ``physical/<name>`` and ``virtual/<name>``.

    Scans use sensor-data QoS (best effort matches any publisher); states are reliable.
    """
    streams = {
        'physical/joint_states': ObservedStream(joint_states_topic, JointState, _reliable()),
        'physical/odom': ObservedStream(odom_topic, Odometry, _reliable(), True),
        'virtual/joint_states': ObservedStream(f'{virtual_prefix}joint_states', JointState,
                                               _reliable()),
        'virtual/odom': ObservedStream(f'{virtual_prefix}odom', Odometry, _reliable(), True),
        'virtual/scan': ObservedStream(f'{virtual_prefix}scan', LaserScan,
                                       qos_profile_sensor_data),
    }
    if physical_scan:
        streams['physical/scan'] = ObservedStream(scan_topic, LaserScan, qos_profile_sensor_data)
    return streams


class _Recorder:
    """Latencies of one stream plus an optional decimated trajectory.

    Messages stamped outside ``[since_ns, until_ns)`` (either bound ``None``: open) are
    left out and counted in :attr:`dropped`.
    """

    def __init__(self, capacity: int, trajectory: bool, min_trajectory_dt: float) -> None:
        self.stats = LatencyStats(capacity=capacity, window_s=None)
        self.trajectory: list[tuple[float, float, float, float]] | None = (
            [] if trajectory else None)
        self._min_dt = min_trajectory_dt
        self._last_point = -np.inf
        self.since_ns: int | None = None
        self.until_ns: int | None = None
        self.dropped = 0

    def __call__(self, msg: Any) -> None:
        now_ns = time.time_ns()
        stamp_ns = time_to_ns(msg.header.stamp)
        if ((self.since_ns is not None and stamp_ns < self.since_ns)
                or (self.until_ns is not None and stamp_ns >= self.until_ns)):
            self.dropped += 1
            return
        self.stats.add((now_ns - stamp_ns) * 1e-9, now_ns * 1e-9)
        if self.trajectory is not None:
            t = now_ns * 1e-9
            if t - self._last_point >= self._min_dt:
                p = msg.pose.pose.position
                self.trajectory.append((t, stamp_ns * 1e-9, p.x, p.y))
                self._last_point = t

    def clear(self, since_ns: int | None) -> None:
        self.stats.clear()
        if self.trajectory is not None:
            self.trajectory.clear()
        self._last_point = -np.inf
        self.since_ns, self.until_ns, self.dropped = since_ns, None, 0


class StreamObserver(Node):
    """Subscribes to labelled streams and ``/diagnostics``; records latency per stream.

    Latency is the receive wall-clock time minus the message's header stamp, which is the
    end-to-end latency when the source stamps with wall-clock time at publish (the
    twin_bridge stamp rule). Keeps up to ``capacity`` samples per stream.
    """

    def __init__(self, streams: Mapping[str, ObservedStream], *, capacity: int = 200_000,
                 diagnostics_topic: str | None = '/diagnostics', node_name: str = 'twin_observer',
                 min_trajectory_dt: float = 0.0, **node_kwargs: Any) -> None:
        super().__init__(node_name, **node_kwargs)
        self.streams = dict(streams)
        self._recorders = {label: _Recorder(capacity, s.trajectory, min_trajectory_dt)
                           for label, s in self.streams.items()}
        for label, s in self.streams.items():  # the node keeps its subscriptions
            self.create_subscription(s.msg_type, s.topic, self._recorders[label], s.qos)
        #: Latest diagnostics status per name: ``{name: {'level', 'message', 'values'}}``.
        self.diagnostics: dict[str, dict[str, Any]] = {}
        if diagnostics_topic:
            self.create_subscription(DiagnosticArray, diagnostics_topic, self._on_diagnostics,
                                     _reliable(10))

    def _on_diagnostics(self, msg: DiagnosticArray) -> None:
        for status in msg.status:
            level = status.level
            self.diagnostics[status.name] = {
                'level': level[0] if isinstance(level, bytes) else int(level),
                'message': status.message,
                'values': {kv.key: kv.value for kv in status.values},
            }

    def count(self, label: str) -> int:
        """Messages received on stream ``label`` since the start (or :meth:`reset`)."""
        return self._recorders[label].stats.count

    def stats(self, label: str) -> LatencyStats:
        """The latency record of stream ``label`` (seconds, arrival times in wall seconds)."""
        return self._recorders[label].stats

    def trajectory(self, label: str) -> np.ndarray:
        """``(N, 4)`` array of (receive time s, stamp s, x, y) (wall clock; decimated)."""
        points = self._recorders[label].trajectory
        return np.array(points, dtype=float).reshape(-1, 4) if points else np.zeros((0, 4))

    def dropped(self, label: str) -> int:
        """Messages of stream ``label`` left out since :meth:`reset` because their stamp lies
        outside the measurement (see :meth:`reset` and :meth:`end_measurement`)."""
        return self._recorders[label].dropped

    def reset(self, *, stamped_from_ns: int | None = None) -> None:
        """Forget everything recorded so far (e.g. once all streams are flowing).

        :param stamped_from_ns: if given (wall-clock ns, e.g. ``time.time_ns()``), from now on
            record only messages stamped at or after it. Under the stamp rule a twin output
            carries its physical sample's stamp, so outputs of inputs sent before the
            measurement started (and the start-up backlog) are left out of every stream
            alike, and outputs are not counted for inputs that were not.
        """
        for recorder in self._recorders.values():
            recorder.clear(stamped_from_ns)

    def end_measurement(self, stamped_until_ns: int | None = None) -> None:
        """From now on ignore messages stamped at or after ``stamped_until_ns`` (default:
        now); outputs still in flight for earlier inputs keep being recorded."""
        until = time.time_ns() if stamped_until_ns is None else stamped_until_ns
        for recorder in self._recorders.values():
            recorder.until_ns = until


class ObserverSession(PrivateContext):
    """A :class:`StreamObserver` with its own rclpy context and executor, for use inside an
    application or benchmark (installs no signal handlers: the caller keeps Ctrl-C).

    Use as a context manager; :attr:`node` is the observer.
    """

    def __init__(self, streams: Mapping[str, ObservedStream], **observer_kwargs: Any) -> None:
        """:param streams: the labelled streams to observe
        :param observer_kwargs: passed on to :class:`StreamObserver`
        """
        super().__init__()
        self._streams = streams
        self._kwargs = observer_kwargs
        self.node: StreamObserver | None = None

    def create_node(self, context: Context) -> StreamObserver:
        """The observer, in ``context``."""
        return StreamObserver(self._streams, context=context, **self._kwargs)
