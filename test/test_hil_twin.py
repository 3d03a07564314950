"""The twin's side of HIL: recorded commands through the embedded dynamics, open loop."""

import math

import pytest

from twin_bridge.errors import ConfigError
from twin_bridge.scenarios.hil_compare import CommandLog
from twin_bridge.scenarios.hil_twin import TwinDynamics


@pytest.fixture(scope='module')
def twin():
    dynamics = TwinDynamics('warehouse')
    yield dynamics
    dynamics.close()


def test_straight_then_stop_follows_the_commands_in_time(twin):
    # 0.5 m/s from t=10 s for 1 s, then stop: about 0.5 m further along the start heading.
    log = CommandLog.from_samples([(10.0, 0.5, 0.0), (11.0, 0.0, 0.0)])
    traj = twin.run(log, (1.0, 0.5, math.pi / 2), 12.0, sample_period=0.05)
    assert traj.start == 10.0 and traj.end == pytest.approx(12.0)
    x, y, _ = traj.at(11.0)
    assert float(y) - 0.5 == pytest.approx(0.5, abs=0.05)   # the servos take a moment
    x_end, y_end, yaw_end = traj.at(12.0)
    assert float(y_end) - float(y) < 0.03            # it stopped
    assert float(x_end) == pytest.approx(1.0, abs=0.03)
    assert float(yaw_end) == pytest.approx(math.pi / 2, abs=0.05)


def test_each_run_starts_at_rest_from_the_pose_given(twin):
    log = CommandLog.from_samples([(0.0, 0.0, 0.0)])
    first = twin.run(log, (0.0, 0.0, 0.0), 0.5)
    again = twin.run(CommandLog.from_samples([(0.0, 0.8, 0.0)]), (0.0, 0.0, 0.0), 0.5)
    rest = twin.run(log, (2.0, -1.0, 1.0), 0.5)
    assert abs(float(first.x[-1])) < 1e-3
    assert float(again.x[-1]) > 0.3
    assert (float(rest.x[-1]), float(rest.y[-1])) == pytest.approx((2.0, -1.0), abs=1e-3)


def test_bad_runs_are_named(twin):
    log = CommandLog.from_samples([(1.0, 0.1, 0.0)])
    with pytest.raises(ConfigError, match='end'):
        twin.run(log, (0.0, 0.0, 0.0), 0.5)
    with pytest.raises(ConfigError, match='start pose'):
        twin.run(log, (math.nan, 0.0, 0.0), 2.0)


@pytest.mark.parametrize('v, w', [(0.0, 0.2), (0.2, 0.5), (0.1, 2.0)])
def test_turns_follow_the_diff_drive_kinematics(twin, v, w):
    """A turn comes out at the commanded yaw rate (a wide wheel cylinder touching the floor
    at both rims scrubs and turned 8-25 % slower)."""
    log = CommandLog.from_samples([(0.0, v, w)])
    traj = twin.run(log, (0.0, 0.0, 0.0), 3.0, sample_period=0.05)
    _, _, yaw_1 = traj.at(1.0)
    _, _, yaw_2 = traj.at(2.0)
    rate = math.remainder(float(yaw_2) - float(yaw_1), 2 * math.pi)  # after the servos' start
    assert rate == pytest.approx(w, rel=0.05)
