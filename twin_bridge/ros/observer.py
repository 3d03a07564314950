"""An rclpy observer recording receive-time minus header-stamp latency on many topics, and
what the twin concludes (drift statuses, per-beam residuals, predicted paths) over time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
import time
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray
from nav_msgs.msg import Odometry, Path
import numpy as np
from rclpy.context import Context
from rclpy.node import Node
from rclpy.qos import QoSProfile, qos_profile_sensor_data
from sensor_msgs.msg import JointState, LaserScan

from twin_bridge.ros.conversions import time_to_ns
from twin_bridge.ros.private_context import PrivateContext
from twin_bridge.ros.qos import qos_profile
from twin_bridge.twin.latency_stats import LatencyStats

__all__ = ['DecimatingBuffer', 'ObservedStream', 'ObserverSession', 'StreamObserver',
           'standard_streams']

#: Points of each trajectory kept from the very first message on (see ``first_trajectory``).
FIRST_POINTS = 25
#: Diagnostics statuses whose history is kept (name prefixes): the twin's drift verdicts.
HISTORY_PREFIXES = ('twin drift: ', 'twin prediction')


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


class DecimatingBuffer:
    """At most ``capacity`` items spread evenly over a whole recording, plus the latest one.

    Every ``stride``-th offered item is kept; when the buffer is full every other kept item
    is dropped and the stride doubles, so a long run keeps a coarser but complete history.
    Items added with ``pin=True`` (e.g. a level change) are kept whatever the stride and
    survive thinning, unless pinned items alone fill most of the buffer.
    """

    def __init__(self, capacity: int) -> None:
        """:raise ValueError: ``capacity`` < 4"""
        if capacity < 4:
            raise ValueError(f'capacity must be >= 4, got {capacity}')
        self.capacity = capacity
        self.stride = 1
        self.offered = 0
        self.latest: Any = None
        self._unpinned = 0  # unpinned items offered
        self._items: list[tuple[bool, Any]] = []  # (pinned, item)

    def add(self, item: Any, pin: bool = False) -> None:
        """Offer ``item``; it becomes :attr:`latest` and is kept if due (or pinned)."""
        self.latest = item
        self.offered += 1
        if not pin:
            self._unpinned += 1
            if (self._unpinned - 1) % self.stride:
                return
        self._items.append((pin, item))
        if len(self._items) >= self.capacity:
            self._thin()

    def _thin(self) -> None:
        """Drop every other unpinned item (those offered at odd multiples of the stride);
        when pinned items crowd the buffer, every other pinned one too (the first stays)."""
        crowded = sum(pin for pin, _ in self._items) > 3 * self.capacity // 4
        kept, counts = [], {True: 0, False: 0}
        for pin, item in self._items:
            if (pin and not crowded) or counts[pin] % 2 == 0:
                kept.append((pin, item))
            counts[pin] += 1
        self._items = kept
        if not crowded:  # the unpinned items were thinned: keep every other one from now on
            self.stride *= 2

    def items(self) -> list[Any]:
        """The kept items, oldest first, ending with :attr:`latest`."""
        out = [item for _, item in self._items]
        if self.latest is not None and (not out or out[-1] is not self.latest):
            out.append(self.latest)
        return out

    def __len__(self) -> int:
        return len(self._items)


class _Recorder:
    """Latencies of one stream plus an optional decimated trajectory.

    Messages stamped outside ``[since_ns, until_ns)`` (either bound ``None``: open) are
    left out and counted in :attr:`dropped`. The first :data:`FIRST_POINTS` points of a
    trajectory are kept apart, whatever their stamp and across :meth:`clear`.
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
        self.first: list[tuple[float, float, float, float]] = []

    def __call__(self, msg: Any) -> None:
        now_ns = time.time_ns()
        stamp_ns = time_to_ns(msg.header.stamp)
        if self.trajectory is not None and len(self.first) < FIRST_POINTS:
            p = msg.pose.pose.position
            self.first.append((now_ns * 1e-9, stamp_ns * 1e-9, p.x, p.y))
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

    It also keeps, from its start and across :meth:`reset` (a fault may begin before a
    measurement does), bounded histories of the statuses named by ``history_prefixes``
    (:meth:`status_history`), of the per-beam residual scans on ``residual_topic``
    (:meth:`residuals`) and of the paths on ``predicted_path_topic`` (:meth:`predictions`,
    :meth:`predicted_paths`); a topic ``None`` is not subscribed.
    """

    def __init__(self, streams: Mapping[str, ObservedStream], *, capacity: int = 200_000,
                 diagnostics_topic: str | None = '/diagnostics', node_name: str = 'twin_observer',
                 min_trajectory_dt: float = 0.0, residual_topic: str | None = None,
                 predicted_path_topic: str | None = None, prediction_lead_s: float = 1.0,
                 history_prefixes: Sequence[str] = HISTORY_PREFIXES,
                 history_capacity: int = 2000, **node_kwargs: Any) -> None:
        super().__init__(node_name, **node_kwargs)
        self.streams = dict(streams)
        self._recorders = {label: _Recorder(capacity, s.trajectory, min_trajectory_dt)
                           for label, s in self.streams.items()}
        for label, s in self.streams.items():  # the node keeps its subscriptions
            self.create_subscription(s.msg_type, s.topic, self._recorders[label], s.qos)
        #: Latest diagnostics status per name: ``{name: {'level', 'message', 'values'}}``.
        self.diagnostics: dict[str, dict[str, Any]] = {}
        self._prefixes = tuple(history_prefixes)
        self._history_capacity = history_capacity
        self._histories: dict[str, DecimatingBuffer] = {}
        self._lead_s = float(prediction_lead_s)
        self._residuals = DecimatingBuffer(history_capacity // 4)
        self._ahead = DecimatingBuffer(10 * history_capacity)
        self._paths = DecimatingBuffer(history_capacity // 10)
        if diagnostics_topic:
            self.create_subscription(DiagnosticArray, diagnostics_topic, self._on_diagnostics,
                                     _reliable(10))
        if residual_topic:
            self.create_subscription(LaserScan, residual_topic, self._on_residual,
                                     qos_profile_sensor_data)
        if predicted_path_topic:
            self.create_subscription(Path, predicted_path_topic, self._on_path, _reliable(10))

    def _on_diagnostics(self, msg: DiagnosticArray) -> None:
        stamp_s = time_to_ns(msg.header.stamp) * 1e-9 or time.time()
        for status in msg.status:
            level = status.level
            entry = {
                'level': level[0] if isinstance(level, bytes) else int(level),
                'message': status.message,
                'values': {kv.key: kv.value for kv in status.values},
            }
            self.diagnostics[status.name] = entry
            if status.name.startswith(self._prefixes):
                history = self._histories.get(status.name)
                if history is None:
                    history = self._histories[status.name] = DecimatingBuffer(
                        self._history_capacity)
                changed = history.latest is None or history.latest[1] != entry['level']
                history.add((stamp_s, entry['level'], entry['values']), pin=changed)

    def _on_residual(self, msg: LaserScan) -> None:
        self._residuals.add((time_to_ns(msg.header.stamp) * 1e-9, float(msg.angle_min),
                             float(msg.angle_increment), np.array(msg.ranges, np.float32)))

    def _on_path(self, msg: Path) -> None:
        if not msg.poses:
            return
        stamp_s = time_to_ns(msg.header.stamp) * 1e-9
        points = np.array([(time_to_ns(p.header.stamp) * 1e-9 - stamp_s, p.pose.position.x,
                            p.pose.position.y) for p in msg.poses], dtype=float)
        i = int(np.argmin(np.abs(points[:, 0] - self._lead_s)))
        self._ahead.add((stamp_s, stamp_s + points[i, 0], points[i, 1], points[i, 2]))
        self._paths.add((stamp_s, points))

    def status_history(self, name: str) -> list[tuple[float, int, dict[str, str]]]:
        """``(stamp s, level, values)`` of status ``name`` over time (wall clock, from the
        DiagnosticArray's stamp), every level change kept; empty if never seen."""
        history = self._histories.get(name)
        return history.items() if history is not None else []

    def status_names(self) -> list[str]:
        """Names of the statuses whose history is kept."""
        return sorted(self._histories)

    def residuals(self) -> list[tuple[float, float, float, np.ndarray]]:
        """``(stamp s, angle_min, angle_increment, residual per beam)`` of the residual
        scans: a decimated history ending with the latest (NaN: no return)."""
        return self._residuals.items()

    def predictions(self) -> np.ndarray:
        """``(N, 4)`` array of (path stamp s, predicted stamp s, x, y): per predicted path
        the pose nearest ``prediction_lead_s`` ahead (a decimated history)."""
        points = self._ahead.items()
        return np.array(points, dtype=float).reshape(-1, 4) if points else np.zeros((0, 4))

    def predicted_paths(self) -> list[tuple[float, np.ndarray]]:
        """``(stamp s, (M, 3) array of (s ahead, x, y))`` of a decimated set of whole
        predicted paths, ending with the latest."""
        return self._paths.items()

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

    def first_trajectory(self, label: str) -> np.ndarray:
        """The first points ever received on trajectory stream ``label`` (as
        :meth:`trajectory`; up to :data:`FIRST_POINTS`, kept across :meth:`reset`)."""
        points = self._recorders[label].first
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
