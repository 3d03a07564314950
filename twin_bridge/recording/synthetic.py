"""A physical robot's bag made up from the stand-in (figure-eight, faults, its own lidar).

What tests and benches replay: the shipped robot drives the stand-in's figure-eight, the
faults of ``stand_in.faults`` are applied to what it reports, and its scans are cast from
the true pose by :class:`FaultyScanner`; every message is stamped with its sample time and
logged a nanosecond apart in the order joint state, odometry, scan. ``on_step`` sees the
same samples, so a test can feed a :class:`DigitalTwin` directly alongside.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from twin_bridge.core.lidar import ScanData
from twin_bridge.core.state import JointStateSample, OdometrySample
from twin_bridge.description.robot_description import RobotDescription
from twin_bridge.recording import samples as bs
from twin_bridge.recording.bag_writer import BagWriter
from twin_bridge.recording.qos_profiles import QosProfile
from twin_bridge.stand_in.fault_scan import FaultyScanner
from twin_bridge.stand_in.faults import FaultInjector, parse_faults
from twin_bridge.stand_in.motion_profiles import make_motion

__all__ = ['T0', 'synthesize_bag']

T0 = 1_700_000_000_000_000_000
Step = Callable[[float, int, JointStateSample, OdometrySample, 'ScanData | None'], None]
_SENSOR = QosProfile(reliability='best_effort')


class _Sqlite3Sink:
    """rosbags' writer for a sqlite3 (``.db3``) bag, with the :class:`BagWriter` calls used."""

    def __init__(self, path: Path) -> None:
        from rosbags.rosbag2 import StoragePlugin, Writer
        self._writer = Writer(path, version=9, storage_plugin=StoragePlugin.SQLITE3)
        self._writer.open()
        self._conns: list[Any] = []

    def add_topic(self, name: str, msgtype: str, qos: Sequence[QosProfile] = ()) -> int:
        from rosbags.interfaces import (
            Qos,
            QosDurability,
            QosHistory,
            QosLiveliness,
            QosReliability,
            QosTime,
        )

        from twin_bridge.recording.message_types import typestore

        def t(ns: int) -> Any:
            return QosTime(*divmod(ns, 1_000_000_000))
        offered = [Qos(QosHistory[q.history.upper()], q.depth,
                       QosReliability[q.reliability.upper()],
                       QosDurability[q.durability.upper()], t(q.deadline_ns),
                       t(q.lifespan_ns), QosLiveliness[q.liveliness.upper()],
                       t(q.liveliness_lease_duration_ns), q.avoid_ros_namespace_conventions)
                   for q in qos]
        self._conns.append(self._writer.add_connection(name, msgtype, typestore=typestore(),
                                                       offered_qos_profiles=offered))
        return len(self._conns) - 1

    def write(self, handle: int, log_time_ns: int, data: bytes) -> None:
        self._writer.write(self._conns[handle], log_time_ns, data)

    def close(self) -> None:
        self._writer.close()


def synthesize_bag(path: str | Path, robot: RobotDescription, *, world: str = 'warehouse',
                   seconds: float = 3.0, faults: Sequence[str] = (), seed: int = 1,
                   state_rate: float = 50.0, scan_every: int = 5, storage: str = 'mcap',
                   on_step: Step | None = None) -> Path:
    """Write ``seconds`` of the figure-eight as ``/joint_states``, ``/odom`` and ``/scan``.

    :param faults: fault specs as ``physical_sim --fault`` takes them
    :param state_rate: Hz of odometry and joint states
    :param scan_every: one scan per this many state samples
    :param storage: ``'mcap'`` (:class:`BagWriter`) or ``'sqlite3'`` (rosbags, ``.db3``)
    :param on_step: called per step with ``(t, stamp_ns, joints, odometry, scan or None)``
    :return: the bag folder
    """
    path = Path(path)
    joints = [(j.name, j.lower, j.upper) for j in map(robot.joint, robot.movable_joint_names)]
    motion = make_motion('figure_eight', joints, robot.wheel_joint_names)
    injector = FaultInjector(parse_faults(list(faults), seed), motion.joint_names,
                             robot.wheel_joint_names)
    sink = BagWriter(path) if storage == 'mcap' else _Sqlite3Sink(path)
    scanner = FaultyScanner(world, robot, injector, seed=seed)
    try:
        h_js = sink.add_topic('/joint_states', bs.JOINT_STATE, [QosProfile()])
        h_odom = sink.add_topic('/odom', bs.ODOMETRY, [QosProfile()])
        h_scan = sink.add_topic('/scan', bs.LASER_SCAN, [_SENSOR])
        for k in range(int(seconds * state_rate) + 1):
            t = k / state_rate
            stamp = T0 + int(round(t * 1e9))
            true_odom, true_joints = motion.odometry(t), motion.joint_state(t)
            odom = replace(injector.odometry(true_odom, t), stamp_ns=stamp)
            js = replace(injector.joint_state(true_joints, t), stamp_ns=stamp)
            scan = None
            if k % scan_every == 0:
                scan = replace(scanner.scan(t, true_odom, true_joints), stamp_ns=stamp)
            sink.write(h_js, stamp, bs.encode_joint_state(js))
            sink.write(h_odom, stamp + 1, bs.encode_odometry(odom, odom.frame_id))
            if scan is not None:
                sink.write(h_scan, stamp + 2, bs.encode_scan(scan, stamp))
            if on_step is not None:
                on_step(t, stamp, js, odom, scan)
    finally:
        scanner.close()
        sink.close()
    return path
