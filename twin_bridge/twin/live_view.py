"""A Foxglove WebSocket server showing the twin live: world, robot, poses, scans, verdicts."""

from __future__ import annotations

from dataclasses import dataclass
import threading
import time

import foxglove
from foxglove.channels import LaserScanChannel, PoseInFrameChannel, SceneUpdateChannel
import foxglove.messages as fm
import numpy as np

from twin_bridge.core.lidar import ScanData
from twin_bridge.core.state import OdometrySample
from twin_bridge.embedded.embedded_backend import EmbeddedBackend
from twin_bridge.embedded.foxglove_scene import (
    laser_scan,
    path_entity,
    pose_in_frame,
    robot_entity,
    text_entity,
    world_entity,
)
from twin_bridge.twin.digital_twin import DigitalTwin
from twin_bridge.twin.periodic_thread import PeriodicThread
from twin_bridge.twin.twin_scene import embedded_model, scene_geometry

__all__ = ['TOPICS', 'LiveView']


@dataclass(frozen=True)
class _Topics:
    world: str = '/twin/world'
    robot: str = '/twin/robot'
    virtual_pose: str = '/twin/virtual_pose'
    physical_pose: str = '/twin/physical_pose'
    virtual_scan: str = '/twin/virtual_scan'
    physical_scan: str = '/twin/physical_scan'
    residual: str = '/twin/scan_residual'


#: The view's channels (Foxglove schemas, protobuf-encoded by the SDK).
TOPICS = _Topics()


class LiveView:
    """The twin as a Foxglove scene, served over the Foxglove WebSocket protocol.

    On a thread of its own (never the caller's), at ``rate_hz``: the robot (its collision
    geoms at the mirrored pose), the predicted path and the drift/safety verdicts as
    ``/twin/robot`` (``SceneUpdate``), the virtual and physical poses (``PoseInFrame``), the
    latest virtual and physical scans and the scan residual (``LaserScan``); the world's
    collision geometry (``/twin/world``) every ``world_period`` s, so a client that connects
    late still gets it. Scans and the physical odometry are handed in with the ``show_*``
    methods (from any thread); the rest is read from the twin.

    :param twin: the twin to show (its embedded judge model, or its embedded backend, gives
        the geometry)
    :param port: the WebSocket port (0: any free one, see :attr:`port`)
    :param host: the address to bind
    :param rate_hz: robot, poses and scans per second
    :param world_period: seconds between two publications of the world
    """

    def __init__(self, twin: DigitalTwin, *, port: int = 8765, host: str = '127.0.0.1',
                 rate_hz: float = 10.0, world_period: float = 3.0) -> None:
        self._twin = twin
        self._model_backend = embedded_model(twin)
        self.geometry = scene_geometry(twin)
        self._world_period = world_period
        self._world_due = 0.0
        self._physical_odom: OdometrySample | None = None
        self._virtual_scan: ScanData | None = None
        self._physical_scan: ScanData | None = None
        self._lock = threading.Lock()
        self._context = foxglove.Context()  # channels of this view only
        ctx = self._context
        self._world = SceneUpdateChannel(TOPICS.world, context=ctx)
        self._robot = SceneUpdateChannel(TOPICS.robot, context=ctx)
        self._virtual_pose = PoseInFrameChannel(TOPICS.virtual_pose, context=ctx)
        self._physical_pose = PoseInFrameChannel(TOPICS.physical_pose, context=ctx)
        self._vscan = LaserScanChannel(TOPICS.virtual_scan, context=ctx)
        self._pscan = LaserScanChannel(TOPICS.physical_scan, context=ctx)
        self._residual = LaserScanChannel(TOPICS.residual, context=ctx)
        self._server = foxglove.start_server(name='twin_bridge', host=host, port=port,
                                             context=ctx)
        self._thread = PeriodicThread('twin_view', rate_hz, self.publish)

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return int(self._server.port)

    # -- inputs (any thread) ---------------------------------------------------------------
    def show_physical_odometry(self, sample: OdometrySample) -> None:
        """The latest physical odometry (its pose is shown as ``/twin/physical_pose``)."""
        self._physical_odom = sample

    def show_virtual_scan(self, scan: ScanData, stamp_ns: int = 0) -> None:
        """The latest virtual scan (as published by the twin)."""
        self._virtual_scan = scan if not stamp_ns else _with_stamp(scan, stamp_ns)

    def show_physical_scan(self, scan: ScanData) -> None:
        """The latest physical scan."""
        self._physical_scan = scan

    # -- publication -------------------------------------------------------------------------
    def start(self) -> LiveView:
        """Start publishing on the view's thread. :return: self"""
        self._thread.start()
        return self

    def publish(self, now_ns: int | None = None) -> None:
        """Publish one round (the view's thread calls this at ``rate_hz``)."""
        with self._lock:
            self._publish(time.time_ns() if now_ns is None else now_ns)

    def _publish(self, now_ns: int) -> None:
        twin, geometry = self._twin, self.geometry
        if geometry is not None and time.monotonic() >= self._world_due:
            self._world.log(fm.SceneUpdate(entities=[world_entity(geometry, now_ns)]))
            self._world_due = time.monotonic() + self._world_period
        virtual = twin.backend.odometry()
        entities = []
        if virtual is not None:
            self._virtual_pose.log(pose_in_frame(virtual.position, virtual.orientation, now_ns))
            if geometry is not None:
                entities.append(robot_entity(geometry, virtual.position, virtual.orientation,
                                                      now_ns))
            path = twin.prediction.predictor.predict(virtual, twin.backend.joint_state())
            entities.append(path_entity('predicted_path', path.positions(), now_ns))
            label = _verdict_text(twin)
            if label:
                entities.append(text_entity('verdicts', label,
                                            np.asarray(virtual.position) + (0.0, 0.0, 0.8),
                                            now_ns))
        if entities:
            self._robot.log(fm.SceneUpdate(entities=entities))
        physical = self._physical_odom
        if physical is not None:
            self._physical_pose.log(pose_in_frame(physical.position, physical.orientation,
                                                  physical.stamp_ns or now_ns))
        lidar = self._lidar_pose()
        if lidar is None:
            return
        for channel, scan in ((self._vscan, self._virtual_scan),
                              (self._pscan, self._physical_scan)):
            if scan is not None:  # the latest, every round: a late client sees it at once
                channel.log(laser_scan(scan, *lidar, scan.stamp_ns or now_ns))
        report = twin.latest_report()
        if report is not None and report.residual is not None:
            self._residual.log(laser_scan(report.residual, *lidar, report.stamp_ns or now_ns))

    def _lidar_pose(self) -> tuple[np.ndarray, np.ndarray] | None:
        backend = self._twin.backend
        source = backend if isinstance(backend, EmbeddedBackend) else self._model_backend
        if source is None or source.lidar is None:
            return None
        return source.lidar_pose()

    def close(self) -> None:
        """Stop the thread and the server."""
        self._thread.stop()
        self._server.stop()


def _verdict_text(twin: DigitalTwin) -> str:
    lines = []
    gate = twin.gate
    if gate is not None and gate.last is not None:
        lines.append(f'safety: {gate.last.verdict} ({gate.last.reason})')
    if twin.drift_monitor is not None:
        drift = ', '.join(f'{cause} {verdict.level.name}'
                          for cause, verdict in twin.drift().items())
        lines.append(f'drift: {drift}')
    return '\n'.join(lines)


def _with_stamp(scan: ScanData, stamp_ns: int) -> ScanData:
    from dataclasses import replace
    return replace(scan, stamp_ns=stamp_ns)
