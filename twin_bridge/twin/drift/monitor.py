"""DriftMonitor: physical scans, odometry and joint states in; a verdict per cause out."""

from __future__ import annotations

from dataclasses import dataclass, field
import enum
import math

import numpy as np

from twin_bridge.core.lidar import ScanData
from twin_bridge.core.state import JointStateSample, OdometrySample
from twin_bridge.core.transforms import yaw_from_quat
from twin_bridge.description.robot_description import RobotDescription
from twin_bridge.description.wheel_geometry import WheelGeometry, wheel_geometry
from twin_bridge.embedded.beam_caster import BeamCaster
from twin_bridge.embedded.embedded_backend import EmbeddedBackend
from twin_bridge.twin.drift.lidar_calibration import FrameTest
from twin_bridge.twin.drift.pose_correction import PoseCorrection
from twin_bridge.twin.drift.residuals import compare_beams
from twin_bridge.twin.drift.scan_match import MatchResult, RayCaster, ScanMatcher
from twin_bridge.twin.drift.se2 import compose, inverse
from twin_bridge.twin.drift.sequential import GaussianCusum, wilson_hilferty
from twin_bridge.twin.drift.wheel_odometry import DiffDriveGeometry, WheelSlipDetector
from twin_bridge.twin.drift.world_change import ChangeCluster, WorldChangeDetector, find_changes
from twin_bridge.twin.pose_history import PoseHistory

__all__ = ['CAUSES', 'DriftMonitor', 'Level', 'PoseCorrection', 'Verdict']

#: The causes a verdict can name.
CAUSES = ('pose', 'world', 'lidar', 'wheels')


class Level(enum.IntEnum):
    """Diagnostic level of a verdict (as ``diagnostic_msgs/DiagnosticStatus``)."""

    OK = 0
    WARN = 1
    ERROR = 2


@dataclass(frozen=True)
class Verdict:
    """One cause's state: its level and named estimates (empty while OK)."""

    cause: str
    level: Level = Level.OK
    estimates: dict[str, float] = field(default_factory=dict)


class DriftMonitor:
    """Decide which of pose, world, lidar and wheels explains twin-vs-physical disagreement.

    Feed :meth:`add_odometry` (the mirrored poses), :meth:`add_joints` and :meth:`add_scan`
    in any interleaving; :meth:`verdicts` gives the current verdict per cause. Each scan is
    matched against the twin's world from the odometry pose at the scan's stamp; the pose
    correction (its chi-square against the match covariance plus model floors) feeds a
    CUSUM; on alarm a :class:`FrameTest` over the scans since the onset names ``pose`` or
    ``lidar``. Range bias/scale, world-change clusters and wheel slip have CUSUMs of their own.
    World-change evidence counts only from scans whose match explains most beams (a cluster
    disagrees while the rest agree); a pose error moves every beam and is matched away.

    After each scan: :meth:`residual` (per beam, physical minus virtual),
    :attr:`pose_correction` (the matched pose with covariance) and :attr:`world_changes`
    (the scan's clusters of disagreeing beams). :meth:`from_backend` builds the monitor for
    an embedded backend's world and robot.

    :param caster: casts against the twin's world (robot excluded)
    :param robot: the robot description (lidar pose, wheel joints)
    :param wheels: the drive for the slip check (e.g. ``wheel_geometry(robot)``); takes
        precedence over ``wheel_radius``/``wheel_separation``
    :param wheel_radius: for the slip check (m) when ``wheels`` is not given; ``None`` (and no
        ``wheels``) disables it
    :param wheel_separation: for the slip check (m)
    :param noise_stddev: the physical lidar's range noise (m)
    :param false_alarm_rate: false alarms per sample allowed, per test
    :param floor_xy: model-error floor on matched positions (m)
    :param floor_yaw: model-error floor on matched yaw (rad)
    :param disagree_tolerance: beams differing more than this disagree (m; default 8 sigma)
    :param max_world_fraction: a scan with more disagreeing beams than this share (after
        matching) is no evidence of a local world change
    """

    def __init__(self, caster: RayCaster, robot: RobotDescription, *,
                 wheels: WheelGeometry | DiffDriveGeometry | None = None,
                 wheel_radius: float | None = None, wheel_separation: float | None = None,
                 noise_stddev: float = 0.01, false_alarm_rate: float = 1e-7,
                 floor_xy: float = 0.003, floor_yaw: float = math.radians(0.1),
                 disagree_tolerance: float | None = None,
                 max_world_fraction: float = 0.3) -> None:
        lidar = robot.lidar
        if lidar is None:
            raise ValueError(f'robot "{robot.name}" has no lidar')
        self.lidar = lidar
        sensor = robot.link_pose(lidar.link).compose(lidar.pose)
        self.sensor_in_base = np.array([sensor.position[0], sensor.position[1],
                                        yaw_from_quat(sensor.orientation)])
        self.matcher = ScanMatcher(caster, self.sensor_in_base, float(sensor.position[2]),
                                   range_min=lidar.range_min, range_max=lidar.range_max,
                                   noise_stddev=noise_stddev)
        self.history = PoseHistory(capacity=512)
        self.floor = np.array([floor_xy, floor_xy, floor_yaw])
        self.tolerance = 8 * noise_stddev if disagree_tolerance is None else disagree_tolerance
        self.pose_cusum = GaussianCusum(3.0, false_alarm_rate)
        self.range_cusum = GaussianCusum(3.0, false_alarm_rate)
        self.frames = FrameTest(self.sensor_in_base, floor_xy=floor_xy, floor_yaw=floor_yaw)
        self.world = WorldChangeDetector(false_alarm_rate=false_alarm_rate)
        self.max_world_fraction = float(max_world_fraction)
        if isinstance(wheels, WheelGeometry):
            wheels = DiffDriveGeometry.from_wheel_geometry(wheels)
        elif wheels is None and wheel_radius is not None and robot.wheel_joint_names:
            wheels = DiffDriveGeometry(*robot.wheel_joint_names, wheel_radius,
                                       float(wheel_separation or 0.0))
        self.wheels = (None if wheels is None
                       else WheelSlipDetector(wheels, false_alarm_rate=false_alarm_rate))
        self._ranges: list[tuple[int, float, float]] = []
        self._scan_index = 0
        self.last_match: MatchResult | None = None
        self._last_odom = np.zeros(3)
        self._angles_key: tuple[float, float, int] | None = None
        self._angles = np.zeros(0)
        self._last_ranges = np.zeros(0)
        self._last_stamp = 0
        self._clusters: list[ChangeCluster] = []
        self._correction: np.ndarray | None = None
        self._mirrored: np.ndarray | None = None

    @classmethod
    def from_backend(cls, backend: EmbeddedBackend, **kwargs: object) -> DriftMonitor:
        """A monitor for ``backend``'s world as it is now and its robot.

        The caster is :meth:`BeamCaster.from_backend` with ``scene=True`` (a check's cost
        follows the geometry near the robot, not the world's size); the slip check uses the
        robot's :func:`~twin_bridge.description.wheel_geometry.wheel_geometry` (off when the
        robot is not a differential drive) unless ``wheels`` is given. Other keyword
        arguments go to the constructor.
        """
        kwargs.setdefault('wheels', wheel_geometry(backend.robot))
        caster = BeamCaster.from_backend(backend, scene=True)
        return cls(caster, backend.robot, **kwargs)  # type: ignore[arg-type]

    @property
    def pose_correction(self) -> PoseCorrection | None:
        """The base pose the last scan matched (odometry frame) with its covariance; ``None``
        before a scan that could be matched."""
        match = self.last_match
        if match is None or not match.valid:
            return None
        return PoseCorrection(stamp_ns=self._last_stamp, pose=match.pose.copy(),
                              covariance=match.covariance + np.diag(self.floor ** 2),
                              odometry=self._last_odom.copy())

    @property
    def world_changes(self) -> list[ChangeCluster]:
        """The last scan's clusters of disagreeing beams at the matched pose, largest first
        (world frame ``centre`` and ``extent``); empty when that scan was no evidence."""
        return list(self._clusters)

    def residual(self, *, corrected: bool = False) -> np.ndarray | None:
        """The last scan's per-beam residual, physical minus virtual (m), NaN where either has
        no return (REP-117 ``+-inf``, NaN); ``None`` before a scan.

        :param corrected: the virtual beams at the matched pose through the fitted range
            model (what the world check compares) instead of at the mirrored pose (what the
            twin shows; cast here, outside the scan check, when the match was warm-started
            from the previous correction)
        """
        match = self.last_match
        if match is None:
            return None
        if corrected and match.valid:
            virtual = match.predicted
        else:
            if self._mirrored is None:  # the match started elsewhere: cast the twin's view
                self._mirrored = self.matcher.cast_at(self._last_odom, self._angles).ranges
            virtual = self._mirrored
        lidar = self.lidar
        with np.errstate(invalid='ignore'):
            both = (np.isfinite(self._last_ranges) & (virtual >= lidar.range_min)
                    & (virtual <= lidar.range_max))
            return np.where(both, self._last_ranges - virtual, np.nan)

    def add_odometry(self, sample: OdometrySample) -> None:
        """Record a mirrored odometry pose (stamps must increase)."""
        self.history.add_odometry(sample)
        if self.wheels is not None:
            self.wheels.add_odometry(sample)

    def add_joints(self, sample: JointStateSample) -> None:
        """Record a joint-state sample (the wheel joints are used)."""
        if self.wheels is not None:
            self.wheels.add_joints(sample)

    def add_scan(self, scan: ScanData, stamp_ns: int) -> bool:
        """Compare one physical scan; ``False`` when no odometry covers its stamp."""
        odom = self.history.planar_at(stamp_ns)
        if odom is None:
            return False
        n = len(scan.ranges)
        key = (scan.angle_min, scan.angle_increment, n)
        if key != self._angles_key:
            self._angles = scan.angle_min + scan.angle_increment * np.arange(n)
            self._angles_key = key
        ranges = np.asarray(scan.ranges, dtype=float)
        # Warm start: the last scan's world-frame correction applied to this odometry pose
        # (a persistent pose error then costs one cast per scan, not one per iteration).
        start = odom if self._correction is None else compose(self._correction, odom)
        match = self.matcher.match(self._angles, ranges, start)
        self._correction = (compose(match.pose, inverse(odom))
                            if match.valid and match.converged else None)
        self._mirrored = match.initial.ranges if start is odom else None
        self.last_match = match
        self._last_odom = odom
        self._last_ranges = ranges
        self._last_stamp = int(stamp_ns)
        self._clusters = []
        index = self._scan_index
        self._scan_index += 1
        if not match.valid:
            return True
        delta = match.pose - odom
        delta[2] = math.remainder(delta[2], 2 * math.pi)
        cov = match.covariance + np.diag(self.floor ** 2)
        chi2 = float(delta @ np.linalg.solve(cov, delta))
        self.pose_cusum.update(float(wilson_hilferty(chi2, 3)))
        self.frames.add(index, odom, match.pose, match.covariance)
        rdelta = np.array([match.range_bias, match.range_scale - 1.0])
        rcov = match.range_covariance + np.diag([0.003 ** 2, 0.001 ** 2])
        self.range_cusum.update(float(wilson_hilferty(rdelta @ np.linalg.solve(rcov, rdelta),
                                                      2)))
        self._ranges.append((index, match.range_bias, match.range_scale))
        del self._ranges[:-60]
        self._check_world(match, ranges)
        return True

    def _check_world(self, match: MatchResult, ranges: np.ndarray) -> None:
        comparison = compare_beams(ranges, match.predicted, self.tolerance,
                                   self.lidar.range_min, self.lidar.range_max)
        if comparison.disagree_fraction > self.max_world_fraction:
            return  # most beams disagree: not a local change (the match failed)
        sensor = self.matcher.sensor_pose(match.pose)
        self._clusters = find_changes(comparison, self._angles + sensor[2], sensor[:2], ranges,
                                      match.predicted)
        self.world.update(self._clusters)

    def verdicts(self) -> dict[str, Verdict]:
        """The current verdict of every cause in :data:`CAUSES`."""
        out = {cause: Verdict(cause) for cause in CAUSES}
        pose_level = _level(self.pose_cusum)
        if pose_level > Level.OK:
            decision = self.frames.decide(self.pose_cusum.onset)
            if decision is not None and decision.cause == 'lidar':
                out['lidar'] = Verdict('lidar', pose_level, {
                    'yaw_offset_deg': math.degrees(decision.yaw_offset)})
            elif decision is not None:
                match = self.last_match
                dx, dy, dyaw = self._pose_delta()
                out['pose'] = Verdict('pose', pose_level, {
                    'dx': dx, 'dy': dy, 'dyaw_deg': math.degrees(dyaw),
                    'x': float(match.pose[0]), 'y': float(match.pose[1]),
                    'yaw': float(match.pose[2]),
                    'std_x': math.sqrt(match.covariance[0, 0]),
                    'std_y': math.sqrt(match.covariance[1, 1]),
                    'std_yaw_deg': math.degrees(math.sqrt(match.covariance[2, 2]))})
        range_level = _level(self.range_cusum)
        if range_level > Level.OK:
            onset = self.range_cusum.onset
            recent = [r for r in self._ranges if r[0] >= onset] or self._ranges
            est = dict(out['lidar'].estimates)
            est['range_bias'] = float(np.mean([r[1] for r in recent]))
            est['range_scale'] = float(np.mean([r[2] for r in recent]))
            out['lidar'] = Verdict('lidar', max(range_level, out['lidar'].level), est)
        world_level = _level(self.world.cusum)
        if world_level > Level.OK and self.world.centre is not None:
            est = {'changed_x': float(self.world.centre[0]),
                   'changed_y': float(self.world.centre[1]),
                   'changed_extent': float(self.world.extent)}
            last = self.world.last
            for name, where in (('appeared', last and last.new_centre),
                                ('vanished', last and last.gone_centre)):
                if where is not None:
                    est[f'{name}_x'], est[f'{name}_y'] = float(where[0]), float(where[1])
            out['world'] = Verdict('world', world_level, est)
        if self.wheels is not None:
            level = _level(self.wheels.cusum)
            slip = self.wheels.slip
            if level > Level.OK and slip is not None:
                out['wheels'] = Verdict('wheels', level, {'slip': slip})
        return out

    def _pose_delta(self) -> np.ndarray:
        """Latest matched pose minus the odometry pose it was matched from."""
        delta = self.last_match.pose - self._last_odom
        delta[2] = math.remainder(delta[2], 2 * math.pi)
        return delta


def _level(cusum: GaussianCusum) -> Level:
    if cusum.alarm:
        return Level.ERROR
    if cusum.statistic >= cusum.threshold / 2:
        return Level.WARN
    return Level.OK
