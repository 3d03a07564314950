"""Shared set-up for the drift tests: the default robot in a world, a caster, fault injection."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from twin_bridge.core.transforms import yaw_from_quat
from twin_bridge.description.robot_description import default_robot_path, load_robot_description
from twin_bridge.embedded.beam_caster import BeamCaster, rep117
from twin_bridge.embedded.embedded_backend import EmbeddedBackend
from twin_bridge.twin.drift.scan_match import ScanMatcher

SCAN_WORLDS = Path(__file__).resolve().parent / 'data' / 'scan_worlds'


class Twin:
    """A world with the default robot: the twin's caster, a 'physical' caster, a matcher."""

    def __init__(self, world: str | Path = 'warehouse', **search) -> None:
        self.robot = load_robot_description(default_robot_path())
        self.backend = EmbeddedBackend(world, self.robot, lidar_noise=False, **search)
        self.backend.lidar_pose()  # kinematics up to date
        self.caster = BeamCaster.from_backend(self.backend)
        self.physical = BeamCaster.from_backend(self.backend)
        self.lidar = self.robot.lidar
        sensor = self.robot.link_pose(self.lidar.link).compose(self.lidar.pose)
        self.sensor_in_base = np.array([sensor.position[0], sensor.position[1],
                                        yaw_from_quat(sensor.orientation)])
        self.sensor_height = float(sensor.position[2])
        self.angles = self.lidar.beam_angles()

    def matcher(self, **kwargs) -> ScanMatcher:
        return ScanMatcher(self.caster, self.sensor_in_base, self.sensor_height,
                           range_min=self.lidar.range_min, range_max=self.lidar.range_max,
                           **kwargs)

    def move_body(self, body: str, dx: float, dy: float) -> None:
        """Move a free world body in the 'physical' world only."""
        m = self.backend.model
        joint = m.joint(int(m.body(body).jntadr[0]))
        qpos = self.physical.data.qpos.copy()
        qpos[joint.qposadr[0]] += dx
        qpos[joint.qposadr[0] + 1] += dy
        self.physical.sync(qpos)

    def scan(self, base_pose, rng: np.random.Generator, *, noise: float = 0.01,
             yaw_offset: float = 0.0, bias: float = 0.0, scale: float = 1.0) -> np.ndarray:
        """A 'physical' REP-117 scan with the base truly at ``base_pose`` and lidar faults."""
        c, s = np.cos(base_pose[2]), np.sin(base_pose[2])
        o = self.sensor_in_base
        origin = np.array([base_pose[0] + c * o[0] - s * o[1],
                           base_pose[1] + s * o[0] + c * o[1], self.sensor_height])
        hits = self.physical.cast(origin, base_pose[2] + o[2] + yaw_offset, self.angles)
        ranges = scale * hits.ranges + bias + rng.normal(0.0, noise, len(self.angles))
        return rep117(ranges, self.lidar.range_min, self.lidar.range_max)


S = 1_000_000_000


def scan_data(twin: Twin, ranges: np.ndarray):
    """Ranges as a ScanData of the twin's lidar."""
    from twin_bridge.core.lidar import ScanData
    lid = twin.lidar
    return ScanData(frame_id=lid.frame_id, angle_min=lid.min_angle, angle_max=lid.max_angle,
                    angle_increment=lid.angle_increment, time_increment=0.0,
                    scan_time=1 / lid.update_rate, range_min=lid.range_min,
                    range_max=lid.range_max, ranges=ranges.astype(np.float32))


def arc(start, seconds: float, phase: float, *, speed: float = 0.3, dt: float = 0.02):
    """The true base poses (k, 3) of :func:`drive`'s arc, one per ``dt``, with the twist
    ``(v, w)`` (k, 2) that led to each."""
    from twin_bridge.twin.drift.se2 import compose
    steps = int(seconds / dt) + 1
    poses = np.empty((steps, 3))
    twists = np.empty((steps, 2))
    true = np.array(start, dtype=float)
    for k in range(steps):
        v, w = speed, 0.4 * np.sin(0.7 * k * dt + phase)
        if k:
            true = compose(true, np.array([v * dt, 0.0, w * dt]))
        poses[k], twists[k] = true, (v, w)
    return poses, twists


#: Scan faults: the lidar cause, with its default size.
LIDAR_FAULTS = ('lidar', 'range_bias', 'range_scale')


def drive(twin: Twin, monitor, *, start, seconds: float, fault: str | None = None,
          fault_at: float = 0.0, rng: np.random.Generator, scan_rate: float = 20.0,
          pose_offset=(0.05, 0.0, 0.0349066), yaw_offset=0.0349066, range_bias: float = 0.03,
          range_scale: float = 1.01, slip: float = 0.1, speed: float = 0.3,
          noise: float = 0.01, on_fault=None, phase: float | None = None,
          encoder_ticks: int | None = 4096, encoder_noise: float = 0.0):
    """Drive an arc from ``start``; inject ``fault`` at ``fault_at`` s. Returns the time after
    ``fault_at`` at which each cause first reached ERROR (dict), and the final true and
    odometry poses. A pose fault is a world-frame transform: at onset the odometry is off by
    ``pose_offset`` (x, y, yaw) from the truth, and stays off by that same rigid transform.
    ``lidar``/``range_bias``/``range_scale`` miscalibrate the scan (yaw offset, bias, scale);
    ``wheels`` makes the wheels turn ``1 + slip`` times too far. Wheel encoders report
    ``encoder_ticks`` per turn (``None``: exact) plus Gaussian ``encoder_noise`` (rad).
    ``on_fault()`` is called once at onset (e.g. to move a world body)."""
    from twin_bridge.core.state import JointStateSample, OdometrySample
    from twin_bridge.core.transforms import quat_from_rpy
    from twin_bridge.twin.drift.monitor import Level
    from twin_bridge.twin.drift.se2 import compose
    dt = 0.02
    wheels = np.zeros(2)
    r, sep = 0.06, 0.32
    first: dict[str, float] = {}
    names = twin.robot.wheel_joint_names
    if phase is None:
        phase = rng.uniform(0, 2 * np.pi)
    poses, twists = arc(start, seconds, phase, speed=speed, dt=dt)
    tick = 2 * np.pi / encoder_ticks if encoder_ticks else 0.0
    next_scan = 0.0
    correction = None
    true = odom = poses[0]
    for k in range(len(poses)):
        t = k * dt
        faulty = fault is not None and t >= fault_at
        true = poses[k]
        if k:
            v, w = twists[k]
            gain = 1.0 + (slip if faulty and fault == 'wheels' else 0.0)
            wheels += gain * np.array([v - w * sep / 2, v + w * sep / 2]) / r * dt
        if faulty and correction is None:
            # C with C * true = true + pose_offset at onset: rotate about the robot, shift
            off = np.asarray(pose_offset, dtype=float)
            c, s_ = np.cos(off[2]), np.sin(off[2])
            p = true[:2]
            t_c = p + off[:2] - np.array([[c, -s_], [s_, c]]) @ p
            correction = np.array([t_c[0], t_c[1], off[2]])
            if on_fault is not None:
                on_fault()
        odom = compose(correction, true) if faulty and fault == 'pose' else true
        stamp = int(round(t * S)) + S
        monitor.add_odometry(OdometrySample(position=np.array([odom[0], odom[1], 0.0]),
                                            orientation=quat_from_rpy(0, 0, odom[2]),
                                            stamp_ns=stamp))
        encoders = wheels + (rng.normal(0.0, encoder_noise, 2) if encoder_noise else 0.0)
        if tick:
            encoders = np.floor(encoders / tick) * tick
        monitor.add_joints(JointStateSample(names=names, positions=encoders, stamp_ns=stamp))
        if t + 1e-9 >= next_scan:
            next_scan += 1.0 / scan_rate
            lidar = faulty and fault in LIDAR_FAULTS
            ranges = twin.scan(true, rng, noise=noise,
                               yaw_offset=yaw_offset if lidar and fault == 'lidar' else 0.0,
                               bias=range_bias if lidar and fault == 'range_bias' else 0.0,
                               scale=range_scale if lidar and fault == 'range_scale' else 1.0)
            monitor.add_scan(scan_data(twin, ranges), stamp)
        if fault is None or faulty:
            for cause, verdict in monitor.verdicts().items():
                if verdict.level == Level.ERROR and cause not in first:
                    first[cause] = t - fault_at
    return first, true, odom
