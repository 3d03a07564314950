"""The fleet twin without ROS: one model, one session per robot, scans for all in one pass."""

from __future__ import annotations

from dataclasses import replace

from twin_bridge.core.lidar import ScanData
from twin_bridge.core.state import JointStateSample, OdometrySample
from twin_bridge.fleet.fleet_model import FleetModel
from twin_bridge.fleet.fleet_scan import FleetScanner
from twin_bridge.fleet.fleet_spec import FleetSpec, RobotEntry
from twin_bridge.fleet.shards import Shard
from twin_bridge.twin.session_types import InputOutcome, SessionConfig
from twin_bridge.twin.stream_monitor import StreamStatus
from twin_bridge.twin.twin_session import TwinSession

__all__ = ['FleetTwin']


class FleetTwin:
    """Mirrors every robot of a fleet (or a shard's share) in one :class:`FleetModel`.

    Each robot this shard serves (:attr:`local`) has a
    :class:`~twin_bridge.twin.twin_session.TwinSession` of its own, so one robot's bad
    messages are validated, counted and rejected without touching another's state. The other
    shards' robots (:attr:`remote`) are obstacles: their twins' ``virtual/odom`` and
    ``virtual/joint_states`` are checked by mirror-only sessions and move them in this model,
    so local scans see them. :meth:`scan` casts every local robot's scan in one pass.

    Single-threaded inputs (one executor thread); :meth:`scan` may run on another thread.

    :param scan_rate: Hz of :meth:`scan` (0: the fastest local lidar's update rate)
    :param now: monotonic start time of the sessions
    :param seed: lidar noise seed (``None``: fresh entropy)
    """

    def __init__(self, fleet: FleetSpec, *, shard: Shard | None = None, scan_rate: float = 0.0,
                 now: float = 0.0, seed: int | None = None,
                 model: FleetModel | None = None) -> None:
        self.fleet = fleet
        self.shard = shard = shard or Shard()
        self.model = model if model is not None else FleetModel(fleet)
        entries = fleet.robots
        #: Namespaces of the robots this twin serves, and of the other shards' robots.
        self.local = tuple(e.namespace for k, e in enumerate(entries) if shard.serves(k))
        self.remote = tuple(e.namespace for k, e in enumerate(entries) if not shard.serves(k))
        rates = [self.model.slots[ns].lidar.update_rate for ns in self.local
                 if self.model.slots[ns].lidar is not None]
        #: Scans per second of :meth:`scan` (0: no local robot has a lidar).
        self.scan_rate = float(scan_rate or max(rates, default=0.0)) if rates else 0.0
        self.sessions: dict[str, TwinSession] = {
            ns: TwinSession(self.model.slots[ns], self._config(fleet.robot(ns), self.scan_rate),
                            now=now) for ns in self.local}
        self.obstacles: dict[str, TwinSession] = {
            ns: TwinSession(self.model.slots[ns], self._config(fleet.robot(ns), 0.0), now=now)
            for ns in self.remote}
        self._scanner = FleetScanner(
            self.model, self.local, seed=seed,
            noise_by_robot={ns: bool(fleet.robot(ns).parameter('lidar_noise'))
                            for ns in self.local})

    @staticmethod
    def _config(entry: RobotEntry, scan_rate: float) -> SessionConfig:
        return SessionConfig(stale_timeout=entry.parameter('stale_timeout'),
                             max_future_stamp=entry.parameter('max_future_stamp'),
                             scan_period=1.0 / scan_rate if scan_rate > 0 else 0.0,
                             ignore_unknown_joints=entry.parameter('unknown_joints') == 'ignore')

    # -- inputs of the robots this twin serves ----------------------------------------------
    def on_joint_state(self, namespace: str, sample: JointStateSample, now: float,
                       wall_ns: int) -> InputOutcome:
        """A physical joint-state sample of robot ``namespace`` (see
        :meth:`TwinSession.on_joint_state`)."""
        return self.sessions[namespace].on_joint_state(sample, now, wall_ns)

    def on_odometry(self, namespace: str, sample: OdometrySample, now: float,
                    wall_ns: int) -> InputOutcome:
        """A physical odometry sample of robot ``namespace`` (in its odometry frame)."""
        return self.sessions[namespace].on_odometry(sample, now, wall_ns)

    # -- the other shards' robots -----------------------------------------------------------
    def on_remote_odometry(self, namespace: str, sample: OdometrySample, now: float,
                           wall_ns: int) -> InputOutcome:
        """Another shard's ``virtual/odom`` of robot ``namespace``: moves the obstacle (the
        robot's frame prefix is taken off the child frame first)."""
        prefix = self.fleet.robot(namespace).frame_prefix
        if prefix and sample.child_frame_id.startswith(prefix):
            sample = replace(sample, child_frame_id=sample.child_frame_id[len(prefix):])
        return self.obstacles[namespace].on_odometry(sample, now, wall_ns)

    def on_remote_joint_state(self, namespace: str, sample: JointStateSample, now: float,
                              wall_ns: int) -> InputOutcome:
        """Another shard's ``virtual/joint_states`` of robot ``namespace``."""
        return self.obstacles[namespace].on_joint_state(sample, now, wall_ns)

    # -- outputs ----------------------------------------------------------------------------
    def scan(self, wall_ns: int) -> list[tuple[str, ScanData, int]]:
        """Cast every local robot's scan in one pass: ``(namespace, scan, stamp_ns)`` each,
        stamped by the robot's newest accepted input (``wall_ns`` before any); publish them,
        then call ``sessions[ns].scan_out.published``."""
        if not self.scan_rate:
            return []
        self._scanner.cast()
        out = []
        for ns in self._scanner.namespaces:
            taken = self.sessions[ns].scan_out.take(wall_ns)
            if taken is not None:
                out.append((ns, *taken))
        return out

    # -- health -----------------------------------------------------------------------------
    def poll(self, now: float) -> list[str]:
        """Streams that have just gone stale, one line each, naming the robot."""
        return [f'{ns}: {line}' for ns, session in self.sessions.items()
                for line in session.poll(now)]

    def statuses(self, now: float) -> dict[str, list[StreamStatus]]:
        """Each served robot's stream health (inputs first), by namespace."""
        return {ns: session.statuses(now) for ns, session in self.sessions.items()}

    def obstacle_statuses(self, now: float) -> dict[str, list[StreamStatus]]:
        """Health of the other shards' robots as this twin receives them."""
        return {ns: [s for s in session.statuses(now) if not s.name.startswith('virtual/')]
                for ns, session in self.obstacles.items()}

    def summary_lines(self, now: float) -> list[str]:
        """Per robot and stream: counts, rejections, rate and latency (shutdown log)."""
        return [f'{ns}: {line}' for ns, session in self.sessions.items()
                for line in session.summary_lines(now)]
