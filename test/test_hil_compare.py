"""HIL comparison math against hand-computed trajectories."""

import math

import numpy as np
import pytest

from twin_bridge.errors import ConfigError
from twin_bridge.scenarios.hil_compare import (
    CommandLog,
    HilThresholds,
    Trajectory,
    compare,
    time_to_goal,
)


def _line(t0, t1, n, speed, y=0.0, yaw=0.0):
    t = np.linspace(t0, t1, n)
    return Trajectory(t, speed * (t - t0), np.full(n, y), np.full(n, yaw))


def test_identical_trajectories_validate_with_zero_error():
    a = _line(0.0, 2.0, 21, 0.5)
    c = compare(a, a, period=0.1)
    assert c.verdict == 'validated'
    assert c.position_rmse == 0.0 and c.max_deviation == 0.0 and c.final_position_error == 0.0
    assert c.exceeded == {}


def test_constant_offset_gives_that_rmse_max_and_final_error():
    # The twin runs 0.05 m to the side the whole time: every error is exactly 0.05 m.
    physical = _line(0.0, 2.0, 21, 0.5)
    twin = _line(0.0, 2.0, 21, 0.5, y=0.05)
    c = compare(physical, twin, period=0.1)
    assert c.position_rmse == pytest.approx(0.05)
    assert c.max_deviation == pytest.approx(0.05)
    assert c.final_position_error == pytest.approx(0.05)
    assert c.verdict == 'validated'


def test_speed_mismatch_rmse_matches_the_closed_form():
    # Physical at 0.5 m/s, twin at 0.4 m/s: error 0.1 t; on a fine grid over 0..end the RMSE
    # is 0.1 * sqrt(mean(t^2)) -> 0.1 end / sqrt(3); final error 0.1 end; max at the end.
    end = 3.0
    physical = _line(0.0, end, 301, 0.5)
    twin = _line(0.0, end, 301, 0.4)
    c = compare(physical, twin, period=0.01, thresholds=HilThresholds(0.1, 0.2))
    grid = np.arange(0.0, end + 1e-9, 0.01)
    assert c.position_rmse == pytest.approx(0.1 * math.sqrt(np.mean(grid ** 2)), rel=1e-9)
    assert c.position_rmse == pytest.approx(0.1 * end / math.sqrt(3), rel=0.01)
    assert c.final_position_error == pytest.approx(0.3)
    assert c.max_deviation_time == pytest.approx(end)
    assert c.verdict == 'mismatch'
    assert set(c.exceeded) == {'position_rmse', 'final_position_error'}
    value, limit = c.exceeded['final_position_error']
    assert (value, limit) == (pytest.approx(0.3), 0.2)
    assert 'final_position_error 0.300 m > 0.2 m (+0.100 m, 1.5x)' in c.summary()
    d = c.to_dict()
    assert d['verdict'] == 'mismatch'
    assert d['exceeded']['final_position_error']['over_by'] == pytest.approx(0.1)


def test_alignment_is_by_time_over_the_shared_span_only():
    # The twin starts 1 s later on the same clock and its samples are at other times:
    # only 1..2 s is compared, by interpolation.
    physical = _line(0.0, 2.0, 5, 1.0)                     # x = t
    t = np.array([1.0, 1.3, 1.7, 2.5])
    twin = Trajectory(t, t + 0.2, np.zeros(4), np.zeros(4))  # x = t + 0.2
    c = compare(physical, twin, period=0.25)
    assert c.start == 1.0 and c.end == 2.0
    assert np.allclose(c.times, [1.0, 1.25, 1.5, 1.75, 2.0])
    assert np.allclose(c.position_error, 0.2)


def test_grid_ends_exactly_at_the_shared_end():
    a = _line(0.0, 1.05, 8, 1.0)
    c = compare(a, a, period=0.1)
    assert c.times[-1] == pytest.approx(1.05)
    assert np.all(np.diff(c.times) > 0)


def test_final_yaw_error_wraps_around_pi():
    t = np.array([0.0, 1.0])
    physical = Trajectory(t, np.zeros(2), np.zeros(2), np.array([3.1, 3.1]))
    twin = Trajectory(t, np.zeros(2), np.zeros(2), np.array([-3.1, -3.1]))
    c = compare(physical, twin, period=0.5)
    assert c.final_yaw_error == pytest.approx(2 * math.pi - 6.2)


def test_max_deviation_threshold_is_judged_when_given():
    t = np.linspace(0.0, 1.0, 11)
    bump = np.where(np.isclose(t, 0.5), 0.3, 0.0)            # one 0.3 m excursion
    physical = Trajectory(t, t, np.zeros(11), np.zeros(11))
    twin = Trajectory(t, t, bump, np.zeros(11))
    c = compare(physical, twin, period=0.1, thresholds=HilThresholds(1.0, 1.0, 0.25))
    assert c.max_deviation == pytest.approx(0.3) and c.max_deviation_time == pytest.approx(0.5)
    assert list(c.exceeded) == ['max_deviation']


def test_time_to_goal_interpolates_the_crossing():
    traj = _line(0.0, 4.0, 5, 1.0)                          # x = t, samples each second
    # Within 0.25 m of x = 2.0 from x = 1.75: t = 1.75 s (interpolated between 1 and 2 s).
    assert time_to_goal(traj, (2.0, 0.0), 0.25) == pytest.approx(1.75)
    assert time_to_goal(traj, (2.0, 0.0), 0.25, start=1.0) == pytest.approx(0.75)
    assert math.isnan(time_to_goal(traj, (2.0, 5.0), 0.25))
    c = compare(traj, _line(0.0, 4.0, 5, 0.5), period=0.5, goal=(2.0, 0.0))
    assert c.time_to_goal_physical == pytest.approx(1.75)
    assert c.time_to_goal_twin == pytest.approx(3.5)
    assert c.time_to_goal_difference == pytest.approx(1.75)


def test_command_log_holds_each_command_until_the_next():
    log = CommandLog.from_samples([(1.0, 0.5, 0.0), (2.0, 0.0, 1.0), (2.0, 0.1, 0.2)])
    assert list(log.t) == [1.0, 2.0]                        # the newer 2.0 s row wins
    v, w = log.at(np.array([0.5, 1.0, 1.5, 2.0, 9.0]))
    assert list(v) == [0.0, 0.5, 0.5, 0.1, 0.1]
    assert list(w) == [0.0, 0.0, 0.0, 0.2, 0.2]


def test_trajectory_from_unordered_samples_sorts_and_keeps_the_last_of_a_time():
    traj = Trajectory.from_samples([(1.0, 1.0, 0, 0), (0.0, 0.0, 0, 0), (1.0, 1.5, 0, 0)])
    assert list(traj.t) == [0.0, 1.0] and list(traj.x) == [0.0, 1.5]


@pytest.mark.parametrize('make, match', [
    (lambda: Trajectory([0.0], [0.0], [0.0], [0.0]), 'at least 2'),
    (lambda: Trajectory([0.0, 0.0], [0, 1], [0, 0], [0, 0]), 'increasing'),
    (lambda: Trajectory([0.0, 1.0], [0, math.nan], [0, 0], [0, 0]), 'finite'),
    (lambda: Trajectory([0.0, 1.0], [0, 1, 2], [0, 0], [0, 0]), 'same length'),
    (lambda: CommandLog([], [], []), 'at least 1'),
    (lambda: HilThresholds(0.0), 'position_rmse'),
    (lambda: compare(_line(0, 1, 3, 1), _line(2, 3, 3, 1)), 'share no time'),
    (lambda: compare(_line(0, 1, 3, 1), _line(0, 1, 3, 1), period=0.0), 'period'),
])
def test_bad_input_is_a_named_error(make, match):
    with pytest.raises(ConfigError, match=match):
        make()
