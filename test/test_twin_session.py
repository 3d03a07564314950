"""Tests for twin_session: validate → mirror → outputs, stamps, stats, staleness."""

from dataclasses import replace
import math
from pathlib import Path

import numpy as np
import pytest

from twin_bridge.core.backend import SimulatorBackend
from twin_bridge.core.lidar import LidarSpec, ScanData
from twin_bridge.core.state import JointStateSample, OdometrySample
from twin_bridge.errors import BackendError
from twin_bridge.twin.stream_monitor import Level
from twin_bridge.twin.twin_session import (
    INPUT_JOINT_STATES,
    INPUT_ODOM,
    OUTPUT_JOINT_STATES,
    OUTPUT_ODOM,
    OUTPUT_SCAN,
    SessionConfig,
    TwinSession,
)

WALL = 1_700_000_000_000_000_000  # a wall-clock time in ns


class KinematicBackend(SimulatorBackend):
    """A minimal in-memory twin: stores the mirrored state; its 'lidar' sees a wall at x=5."""

    def __init__(self, names=('pan', 'tilt'), fail_on=None):
        self._names = tuple(names)
        self._q = np.zeros(len(names))
        self._odom = None
        self._fail_on = fail_on
        self.mirror_calls = 0
        self._lidar = LidarSpec('lidar', 'lidar_link', 'lidar_link', 4, -1.0, 1.0, 0.1, 10.0)

    @property
    def joint_names(self):
        return self._names

    @property
    def lidar(self):
        return self._lidar

    def mirror(self, odometry=None, joints=None):
        self.mirror_calls += 1
        if joints is not None:
            if self._fail_on in joints.names:
                raise BackendError(f'joint {self._fail_on} cannot move')
            if self._fail_on == '*':
                raise RuntimeError('simulator crashed')
            idx = [self._names.index(n) for n in joints.names]
            self._q[idx] = joints.positions
        if odometry is not None:
            self._odom = odometry

    def scan(self):
        x = 0.0 if self._odom is None else self._odom.position[0]
        ranges = np.full(4, 5.0 - x, dtype=np.float32)
        spec = self._lidar
        return ScanData(spec.frame_id, spec.min_angle, spec.max_angle, spec.angle_increment,
                        0.0, 0.05, spec.range_min, spec.range_max, ranges)

    def odometry(self):
        return None if self._odom is None else OdometrySample(
            self._odom.position.copy(), self._odom.orientation.copy(),
            self._odom.linear_velocity.copy(), self._odom.angular_velocity.copy())

    def joint_state(self):
        return JointStateSample(self._names, self._q.copy())

    def step(self, duration, wheel_velocities=None):
        raise BackendError('no dynamics')


def js(names=('pan', 'tilt'), pos=(0.1, -0.2), stamp=WALL):
    return JointStateSample(tuple(names), np.asarray(pos, float), stamp_ns=stamp)


def od(x=1.0, quat=(0, 0, 0, 1), stamp=WALL):
    return OdometrySample(np.array([x, 0.0, 0.0]), np.asarray(quat, float),
                          np.array([0.3, 0.0, 0.0]), np.array([0.0, 0.0, 0.1]), stamp_ns=stamp)


@pytest.fixture
def session():
    return TwinSession(KinematicBackend(), SessionConfig(scan_period=0.05), now=0.0)


def test_accepted_joint_state_is_mirrored_and_output_with_its_stamp(session):
    outcome = session.on_joint_state(js(pos=(0.5, 0.25), stamp=WALL - 2_000_000), 1.0, WALL)
    assert outcome.accepted and outcome.describe() == ''
    out = outcome.output                                  # what to publish, now
    assert out.names == ('pan', 'tilt') and out.stamp_ns == WALL - 2_000_000
    np.testing.assert_array_equal(out.positions, [0.5, 0.25])
    assert session.joint_states_out.take() is None        # not rate-capped: nothing pending
    session.joint_states_out.published(1.0015)
    status = {s.name: s for s in session.statuses(1.1)}
    assert status[OUTPUT_JOINT_STATES].counts['published'] == 1
    assert status[OUTPUT_JOINT_STATES].summary.max == pytest.approx(0.0015)
    assert status[INPUT_JOINT_STATES].summary.max == pytest.approx(0.002)


def test_rate_capped_outputs_are_taken_by_the_timer_latest_wins():
    config = SessionConfig(joint_states_rate=10.0, odom_rate=5.0)
    session = TwinSession(KinematicBackend(), config, now=0.0)
    assert session.joint_states_out.take() is None         # nothing accepted yet
    for i in range(3):
        outcome = session.on_joint_state(js(pos=(0.1 * i, 0.0), stamp=WALL + i), 1.0 + i,
                                         WALL + i)
        assert outcome.accepted and outcome.output is None
    out = session.joint_states_out.take()
    assert out.stamp_ns == WALL + 2 and out.positions[0] == pytest.approx(0.2)
    assert session.joint_states_out.take() is None         # once per new input
    session.joint_states_out.published(3.01)
    assert session.on_odometry(od(x=3.0), 4.0, WALL).output is None
    assert session.odom_out.take().position[0] == 3.0
    status = {s.name: s for s in session.statuses(4.1)}
    assert status[OUTPUT_JOINT_STATES].summary.max == pytest.approx(0.01)  # since the newest
    assert status[OUTPUT_ODOM].counts['published'] == 0


def test_subset_of_joints_keeps_others(session):
    session.on_joint_state(js(pos=(0.5, 0.25)), 1.0, WALL)
    out = session.on_joint_state(js(names=('tilt',), pos=(0.7,), stamp=WALL + 1), 1.01,
                                 WALL + 1).output
    np.testing.assert_array_equal(out.positions, [0.5, 0.7])


def test_odometry_output_and_scan_stamp_is_newer_input(session):
    assert session.scan_out.take(WALL)[1] == WALL        # before any input: wall time
    out = session.on_odometry(od(x=2.0, stamp=WALL - 10), 1.0, WALL).output
    assert out.stamp_ns == WALL - 10 and out.position[0] == 2.0
    np.testing.assert_array_equal(out.linear_velocity, [0.3, 0, 0])
    session.on_joint_state(js(stamp=WALL - 5), 1.01, WALL)
    scan, stamp = session.scan_out.take(WALL + 50)
    assert stamp == WALL - 5
    np.testing.assert_allclose(scan.ranges, 3.0)


def test_rejections_keep_last_good_state_and_are_counted(session):
    backend = session.backend
    session.on_joint_state(js(pos=(0.5, 0.25)), 1.0, WALL)
    session.on_odometry(od(x=2.0), 1.0, WALL)
    calls = backend.mirror_calls
    bad = [
        session.on_joint_state(js(pos=(np.nan, 0.0), stamp=WALL + 1), 1.1, WALL),
        session.on_joint_state(js(names=('pan', 'elbow'), stamp=WALL + 1), 1.1, WALL),
        session.on_joint_state(js(names=('pan', 'pan'), stamp=WALL + 1), 1.1, WALL),
        session.on_joint_state(js(pos=(1.0,), stamp=WALL + 1), 1.1, WALL),
        session.on_joint_state(js(names=(), pos=(), stamp=WALL + 1), 1.1, WALL),
        session.on_joint_state(js(stamp=WALL + 10**9), 1.1, WALL),          # 1 s ahead
        session.on_joint_state(js(stamp=WALL - 1), 1.1, WALL),              # backwards
        session.on_odometry(od(quat=(0, 0, 0, 0), stamp=WALL + 1), 1.1, WALL),
        session.on_odometry(od(quat=(0, 0, 0, 2), stamp=WALL + 1), 1.1, WALL),
        session.on_odometry(od(x=np.inf, stamp=WALL + 1), 1.1, WALL),
        session.on_odometry(od(stamp=WALL - 1), 1.1, WALL),
    ]
    assert not any(o.accepted for o in bad)
    assert all(o.output is None and o.notes == () for o in bad)
    assert 'rejected joint_states sample: non_finite' in bad[0].describe()
    assert backend.mirror_calls == calls                    # nothing reached the twin
    assert session.joint_states_out.take() is None and session.odom_out.take() is None
    np.testing.assert_array_equal(backend.joint_state().positions, [0.5, 0.25])
    assert backend.odometry().position[0] == 2.0
    status = {s.name: s for s in session.statuses(1.2)}
    joints = status[INPUT_JOINT_STATES].counts
    assert joints['received'] == 8 and joints['accepted'] == 1
    for reason in ('non_finite', 'unknown_joint', 'duplicate_joint', 'length_mismatch',
                   'empty', 'future_stamp', 'stamp_backwards'):
        assert joints[f'rejected.{reason}'] == 1, reason
    odom = status[INPUT_ODOM].counts
    for reason in ('zero_quaternion', 'non_unit_quaternion', 'non_finite', 'stamp_backwards'):
        assert odom[f'rejected.{reason}'] == 1, reason
    # still serving
    outcome = session.on_joint_state(js(pos=(0.9, 0.0), stamp=WALL + 2), 1.3, WALL + 2)
    np.testing.assert_array_equal(outcome.output.positions, [0.9, 0.0])


def test_backend_error_is_a_counted_rejection():
    session = TwinSession(KinematicBackend(fail_on='tilt'), now=0.0)
    outcome = session.on_joint_state(js(), 1.0, WALL)
    assert not outcome.accepted and 'backend_error' in outcome.describe()
    assert 'tilt cannot move' in outcome.describe()
    assert session.statuses(1.0)[0].counts['rejected.backend_error'] == 1


def test_unexpected_backend_exception_is_contained():
    session = TwinSession(KinematicBackend(fail_on='*'), now=0.0)
    outcome = session.on_joint_state(js(), 1.0, WALL)
    assert not outcome.accepted
    assert 'backend_error: RuntimeError: simulator crashed' in outcome.describe()


def test_rejected_stamp_does_not_advance_guard(session):
    # A sample rejected for NaN but carrying a later stamp must not make good samples "old".
    session.on_joint_state(js(pos=(np.nan, 0.0), stamp=WALL + 100), 1.0, WALL + 100)
    assert session.on_joint_state(js(stamp=WALL), 1.0, WALL).accepted


def test_staleness_goes_warn_error_and_recovers(session):
    session.on_odometry(od(stamp=WALL), 1.0, WALL)
    session.on_joint_state(js(stamp=WALL), 1.0, WALL)
    assert session.poll(1.2) == []
    events = session.poll(1.6)
    assert sorted(e.split(':')[0] for e in events) == [INPUT_JOINT_STATES, INPUT_ODOM]
    session.on_joint_state(js(stamp=WALL + 1), 1.7, WALL + 1)
    levels = {s.name: s.level for s in session.statuses(3.5)}
    assert levels[INPUT_ODOM] is Level.ERROR                  # 2.5 s > 4 x 0.5 s
    assert levels[INPUT_JOINT_STATES] is Level.WARN             # 1.8 s: stale, not yet 4x
    recovered = session.on_odometry(od(stamp=WALL + 2), 3.6, WALL + 2)
    assert recovered.recovered
    levels = {s.name: s.level for s in session.statuses(3.6)}
    assert levels[INPUT_ODOM] is Level.OK


def test_scan_latency_counts_only_first_scan_per_new_input(session):
    session.on_odometry(od(), 1.0, WALL)
    for k in range(5):
        session.scan_out.take(WALL)
        session.scan_out.published(1.01 + 0.05 * k)
    status = {s.name: s for s in session.statuses(1.3)}[OUTPUT_SCAN]
    assert status.counts['published'] == 5
    assert status.summary.max == pytest.approx(0.01) and status.summary.min == pytest.approx(
        0.01)
    assert status.summary.rate_hz == pytest.approx(20.0)


def test_scan_stream_absent_without_scan_period_and_bad_config():
    session = TwinSession(KinematicBackend(), SessionConfig(), now=0.0)
    assert OUTPUT_SCAN not in session.monitors and session.scan_out is None
    assert OUTPUT_ODOM in session.monitors
    with pytest.raises(ValueError, match='max_magnitude'):
        SessionConfig(max_magnitude=0.0)
    with pytest.raises(ValueError, match='odom_rate'):
        SessionConfig(odom_rate=-1.0)
    with pytest.raises(ValueError, match='stale_timeout'):
        SessionConfig(stale_timeout=0.0)
    with pytest.raises(ValueError, match='max_future_stamp'):
        SessionConfig(max_future_stamp=math.inf)


def test_summary_lines_cover_every_stream(session):
    session.on_joint_state(js(pos=(np.nan, 0)), 1.0, WALL)
    lines = session.summary_lines(2.0)
    assert [line.split(':')[0] for line in lines] == [
        INPUT_JOINT_STATES, INPUT_ODOM, OUTPUT_JOINT_STATES, OUTPUT_ODOM, OUTPUT_SCAN]
    assert '(non_finite=1)' in lines[0]


# -- unstamped samples, timeline resets, unknown joints ------------------------------------

def test_unstamped_sample_is_stamped_on_receipt_counted_and_noted_once(session):
    first = session.on_joint_state(js(pos=(0.4, 0.1), stamp=0), 1.0, WALL)
    assert first.accepted and len(first.notes) == 1 and 'header.stamp is 0' in first.notes[0]
    assert first.output.stamp_ns == WALL                         # never a 1970 stamp
    second = session.on_joint_state(js(pos=(0.5, 0.1), stamp=0), 1.1, WALL - 5)
    assert second.accepted and second.notes == ()                # noted once per stream
    assert second.output.stamp_ns == WALL - 5                    # bypasses the stamp guard
    session.on_odometry(od(stamp=0), 1.1, WALL)
    status = {s.name: s for s in session.statuses(1.2)}
    joints = status[INPUT_JOINT_STATES]
    assert joints.counts['unstamped'] == 2 and joints.counts['rejected'] == 0
    assert joints.summary.max == 0.0                             # stamped on receipt
    assert status[INPUT_ODOM].counts['unstamped'] == 1
    # a stamped sample afterwards is checked and aged as usual
    assert session.on_joint_state(js(stamp=WALL - 3_000_000), 1.3, WALL).accepted
    status = {s.name: s for s in session.statuses(1.3)}
    assert status[INPUT_JOINT_STATES].summary.max == pytest.approx(0.003)


def test_clock_jump_back_is_followed_after_a_consistent_run_and_counted(session):
    assert session.on_joint_state(js(pos=(0.1, 0.0), stamp=WALL), 1.0, WALL).accepted
    back = WALL - 30 * 10**9
    outcomes = [session.on_joint_state(js(pos=(0.01 * i, 0.0), stamp=back + i * 20_000_000),
                                       1.0 + 0.02 * i, WALL + i * 20_000_000)
                for i in range(1, 11)]
    assert [o.accepted for o in outcomes] == [False] * 9 + [True]
    assert 'jumped back 29.800 s' in outcomes[-1].notes[0]
    out = outcomes[-1].output
    assert out.stamp_ns == back + 200_000_000 and out.positions[0] == pytest.approx(0.1)
    joints = {s.name: s for s in session.statuses(1.3)}[INPUT_JOINT_STATES].counts
    assert joints['timeline_reset'] == 1 and joints['rejected.stamp_backwards'] == 9
    # one isolated stale sample on the new timeline is still refused
    assert not session.on_joint_state(js(stamp=back), 1.3, WALL).accepted


def test_unknown_joints_ignored_when_configured():
    backend = KinematicBackend()
    session = TwinSession(backend, SessionConfig(ignore_unknown_joints=True), now=0.0)
    many = tuple(f'arm_{i}' for i in range(8))
    outcome = session.on_joint_state(
        js(names=('pan',) + many, pos=(0.3,) + (1.0,) * 8), 1.0, WALL)
    assert outcome.accepted and outcome.verdict.ignored == many
    assert outcome.notes == ("joint_states: ignoring joints the twin does not have: "
                             "['arm_0', 'arm_1', 'arm_2', 'arm_3', 'arm_4'] and 3 more "
                             '(counted as "ignored.unknown_joint")',)
    np.testing.assert_array_equal(backend.joint_state().positions, [0.3, 0.0])
    again = session.on_joint_state(js(names=('tilt', 'arm_0'), pos=(0.2, 1.0), stamp=WALL + 1),
                                   1.1, WALL + 1)
    assert again.accepted and again.notes == ()                   # names already reported
    new = session.on_joint_state(js(names=('tilt', 'gripper'), pos=(0.2, 1.0), stamp=WALL + 2),
                                 1.2, WALL + 2)
    assert "['gripper']" in new.notes[0]
    joints = session.statuses(1.3)[0].counts
    assert joints['ignored.unknown_joint'] == 3 and joints['rejected'] == 0
    assert not session.on_joint_state(js(names=('gripper',), pos=(0.0,), stamp=WALL + 3),
                                      1.3, WALL + 3).accepted    # nothing to mirror
    # the default still rejects, and does not show the counter
    default = TwinSession(KinematicBackend(), now=0.0)
    assert not default.on_joint_state(js(names=('pan', 'arm_0')), 1.0, WALL).accepted
    assert 'ignored.unknown_joint' not in default.statuses(1.0)[0].counts


# -- odometry frames ---------------------------------------------------------------------------

FOOTPRINT_URDF = (Path(__file__).parent / 'data' / 'robots' / 'footprint_bot.urdf').read_text()


def test_odometry_in_a_fixed_child_frame_moves_the_root_and_comes_back_in_that_frame():
    """A base_footprint pose is converted to the root (base_link) pose before any backend
    sees it; the twin's odometry is expressed back in base_footprint, equal to the input."""
    from twin_bridge.description.robot_description import parse_urdf
    robot = parse_urdf(FOOTPRINT_URDF)
    backend = KinematicBackend(names=('pan',))
    session = TwinSession(backend, now=0.0, robot=robot)
    footprint = OdometrySample(np.array([1.0, 2.0, 0.15]), np.array([0.0, 0.0, 0.0, 1.0]),
                               np.array([0.4, 0.0, 0.0]), np.array([0.0, 0.0, 0.5]),
                               stamp_ns=WALL, child_frame_id='base_footprint')
    outcome = session.on_odometry(footprint, 1.0, WALL)
    assert outcome.accepted and outcome.notes == ()
    # base_footprint sits at (0.1, 0, -0.15), yawed +90 deg, in base_link: so base_link is
    # yawed -90 deg and (0.1, 0, -0.15) rotated by -90 deg = (0, -0.1, -0.15) behind it.
    moved = backend._odom
    assert moved.child_frame_id == 'base_link'
    np.testing.assert_allclose(moved.position, [1.0, 2.1, 0.3], atol=1e-12)
    s = math.sqrt(0.5)
    np.testing.assert_allclose(moved.orientation, [0.0, 0.0, -s, s], atol=1e-12)
    out = outcome.output
    assert out.child_frame_id == 'base_footprint' and out.stamp_ns == WALL
    for field in ('position', 'orientation', 'linear_velocity', 'angular_velocity'):
        np.testing.assert_allclose(getattr(out, field), getattr(footprint, field), atol=1e-12)
    # a frame that is no link of the robot is taken as the root (pose unchanged), noted once
    lacking = replace(footprint, child_frame_id='odom_child_the_robot_lacks')
    outcome = session.on_odometry(lacking, 1.1, WALL)
    assert outcome.output.child_frame_id == 'base_link'
    np.testing.assert_allclose(outcome.output.position, footprint.position)
    assert outcome.notes == ('odom: child frame "odom_child_the_robot_lacks" is not a link of '
                             'robot "fp_bot": taking it as the root link "base_link"',)
    assert session.on_odometry(lacking, 1.2, WALL).notes == ()
    # a link that moves relative to the root is refused before any backend sees it
    calls = backend.mirror_calls
    moving = session.on_odometry(replace(footprint, child_frame_id='mast'), 1.3, WALL)
    assert moving.verdict.reason.value == 'moving_child_frame' and '"mast"' in moving.describe()
    assert backend.mirror_calls == calls


def test_odometry_frames_round_trip_through_the_embedded_backend():
    from twin_bridge.core.transforms import quat_from_rpy
    from twin_bridge.description.robot_description import parse_urdf
    from twin_bridge.embedded.embedded_backend import EmbeddedBackend
    backend = EmbeddedBackend('empty', parse_urdf(FOOTPRINT_URDF))
    session = TwinSession(backend, now=0.0)                 # robot taken from the backend
    sample = OdometrySample(np.array([3.0, -1.0, 0.0]), quat_from_rpy(0.0, 0.0, 0.7),
                            np.array([0.3, 0.1, 0.0]), np.array([0.0, 0.0, -0.4]),
                            stamp_ns=WALL, child_frame_id='base_footprint')
    out = session.on_odometry(sample, 1.0, WALL).output
    assert backend.odometry().position[2] == pytest.approx(0.15)   # the root sits above
    assert out.child_frame_id == 'base_footprint'
    for field in ('position', 'orientation', 'linear_velocity', 'angular_velocity'):
        np.testing.assert_allclose(getattr(out, field), getattr(sample, field), atol=1e-9,
                                   err_msg=field)
    out = session.on_odometry(replace(sample, child_frame_id='base_link', stamp_ns=WALL + 1),
                              1.1, WALL + 1).output
    assert out.child_frame_id == 'base_link'
    np.testing.assert_allclose(out.position, sample.position, atol=1e-9)


# -- bounded memory and logs, negative stamps, magnitudes, exact read-back (issue 8) --------

def _traced_growth(feed):
    """Python heap growth (bytes) that outlives ``feed()``."""
    import gc
    import tracemalloc
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        feed()
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


def test_unknown_odometry_frames_keep_no_memory_and_are_noted_shortly_not_logged(caplog):
    """Distinct huge child_frame_ids: nothing keeps them, no Python logging, short notes."""
    from twin_bridge.description.robot_description import parse_urdf
    from twin_bridge.embedded.embedded_backend import EmbeddedBackend
    backend = EmbeddedBackend('empty', parse_urdf(FOOTPRINT_URDF))
    session = TwinSession(backend, now=0.0)
    notes = []

    def feed():
        for i in range(40):
            frame = f'{i:04d}' + 'x' * 100_000
            outcome = session.on_odometry(replace(od(stamp=WALL + i), child_frame_id=frame),
                                          1.0, WALL + i)
            assert outcome.accepted, outcome.describe()
            notes.extend(outcome.notes)
    with caplog.at_level('DEBUG'):
        growth = _traced_growth(feed)
    assert growth < 400_000, f'{growth} bytes kept for 40 frame names of 100 kB'
    assert caplog.records == []                  # warnings go through the node's logger
    assert 0 < len(notes) <= 40
    assert all(len(note) < 300 and '(100004 chars)' in note for note in notes), notes[:1]


def test_ignored_unknown_joint_names_keep_no_memory_and_are_noted_shortly():
    session = TwinSession(KinematicBackend(), SessionConfig(ignore_unknown_joints=True),
                          now=0.0)
    notes = []

    def feed():
        for i in range(40):
            name = f'{i:04d}' + 'j' * 100_000
            outcome = session.on_joint_state(js(names=('pan', name), pos=(0.1, 0.2),
                                                stamp=WALL + i), 1.0, WALL + i)
            assert outcome.accepted
            notes.extend(outcome.notes)
    growth = _traced_growth(feed)
    assert growth < 400_000, f'{growth} bytes kept for 40 joint names of 100 kB'
    assert notes and all(len(note) < 300 for note in notes)


def test_rejection_of_a_huge_unknown_joint_name_is_a_short_line():
    session = TwinSession(KinematicBackend(), now=0.0)
    huge = 'q' * 1_000_000
    outcome = session.on_joint_state(js(names=('pan', huge)), 1.0, WALL)
    assert outcome.verdict.reason.value == 'unknown_joint'
    text = outcome.describe()
    assert len(text) < 400 and '(1000000 chars)' in text, text[:500]


def test_negative_stamp_is_rejected_with_its_own_reason(session):
    outcome = session.on_joint_state(js(stamp=-5), 1.0, WALL)
    assert not outcome.accepted and outcome.verdict.reason.value == 'negative_stamp'
    outcome = session.on_odometry(od(stamp=-(10**9)), 1.0, WALL)
    assert not outcome.accepted and outcome.verdict.reason.value == 'negative_stamp'
    assert session.backend.mirror_calls == 0


@pytest.mark.parametrize('make', [
    lambda: ('odom', od(x=1e100)),
    lambda: ('odom', od(x=2e154)),
    lambda: ('odom', replace(od(), linear_velocity=np.array([0.0, -3e6, 0.0]))),
    lambda: ('odom', replace(od(), angular_velocity=np.array([0.0, 0.0, 1e300]))),
    lambda: ('joints', js(pos=(0.1, 1e100))),
    lambda: ('joints', replace(js(), velocities=np.array([0.0, 1e200]))),
])
def test_absurd_magnitudes_are_rejected_as_out_of_range(session, make):
    kind, sample = make()
    feed = session.on_odometry if kind == 'odom' else session.on_joint_state
    outcome = feed(sample, 1.0, WALL)
    assert not outcome.accepted and outcome.verdict.reason.value == 'out_of_range', (
        outcome.describe())
    assert session.backend.mirror_calls == 0


def test_mirrored_pose_reads_back_bit_exact():
    """Normalised once: what the session mirrors is what the embedded twin reports, to the
    bit; an exactly unit quaternion (and any position) arrives unchanged."""
    from twin_bridge.core.transforms import quat_from_rpy
    from twin_bridge.description.robot_description import (
        default_robot_path,
        load_robot_description,
    )
    from twin_bridge.embedded.embedded_backend import EmbeddedBackend
    backend = EmbeddedBackend('empty', load_robot_description(default_robot_path()))
    session = TwinSession(backend, now=0.0)
    rng = np.random.default_rng(8)
    exact = 0
    for i in range(300):
        q = quat_from_rpy(*rng.uniform(-3.0, 3.0, 3))
        p = rng.uniform(-50.0, 50.0, 3)
        outcome = session.on_odometry(OdometrySample(p, q, stamp_ns=WALL + i), 1.0, WALL + i)
        assert outcome.accepted
        out = backend.odometry()
        assert np.array_equal(out.position, p)
        assert np.array_equal(out.orientation, outcome.verdict.sample.orientation), i
        if math.hypot(*q) == 1.0:
            exact += 1
            assert np.array_equal(out.orientation, q), i
    assert exact > 50


def _physical_scan(n: int = 8, stamp_ns: int = WALL, **changes) -> ScanData:
    scan = ScanData('laser', -1.0, 1.0, 2.0 / (n - 1), 0.0, 0.1, 0.1, 10.0,
                    np.full(n, 2.0, np.float32), stamp_ns=stamp_ns)
    return replace(scan, **changes)


def test_physical_scans_are_checked_counted_and_handed_on_never_mirrored():
    backend = KinematicBackend()
    accepted = []
    session = TwinSession(backend, SessionConfig(scan_input=True), now=0.0,
                          on_accepted=lambda *args: accepted.append(args))
    status = {s.name: s for s in session.statuses(0.1)}
    assert status['scan'].level == Level.OK  # optional: no alarm before the first scan
    good = _physical_scan()
    outcome = session.on_scan(good, 0.2, WALL)
    assert outcome.accepted and outcome.output is None
    assert accepted == [('scan', good, WALL)] and backend.mirror_calls == 0
    bad = session.on_scan(_physical_scan(angle_increment=0.0, stamp_ns=WALL + 1), 0.3, WALL)
    assert not bad.accepted and bad.verdict.reason.value == 'bad_angles'
    nan = session.on_scan(_physical_scan(angle_min=math.nan, stamp_ns=WALL + 2), 0.3, WALL)
    assert nan.verdict.reason.value == 'non_finite'
    counts = {s.name: s for s in session.statuses(0.4)}['scan'].counts
    assert counts['accepted'] == 1 and counts['rejected.bad_angles'] == 1
    assert counts['rejected.non_finite'] == 1 and len(accepted) == 1
    # Once scans came, a silent scanner goes stale like any input.
    assert {s.name: s for s in session.statuses(5.0)}['scan'].level > Level.OK


def test_every_accepted_sample_reaches_the_listener_with_its_effective_stamp():
    seen = []
    session = TwinSession(KinematicBackend(), now=0.0, on_accepted=lambda *a: seen.append(a))
    session.on_joint_state(JointStateSample(('pan',), np.array([0.1]), stamp_ns=0), 0.1, WALL)
    session.on_odometry(OdometrySample(np.zeros(3), np.array([0.0, 0, 0, 1]),
                                       stamp_ns=WALL - 5), 0.2, WALL)
    session.on_odometry(OdometrySample(np.full(3, np.nan), np.array([0.0, 0, 0, 1]),
                                       stamp_ns=WALL - 4), 0.3, WALL)
    assert [(stream, stamp) for stream, _, stamp in seen] == [('joint_states', WALL),
                                                              ('odom', WALL - 5)]


def test_a_session_without_scan_input_refuses_scans():
    session = TwinSession(KinematicBackend(), now=0.0)
    assert 'scan' not in session.monitors
    with pytest.raises(RuntimeError, match='scan_input'):
        session.on_scan(_physical_scan(), 0.0, WALL)
