"""A saved policy: loading (and its errors), live scans read at the trained beam angles, the
driver's decisions (policy, stop on stale inputs, stop at the goal, refused inputs)."""

from __future__ import annotations

import json
import math
from pathlib import Path

from nav_policy_fixture import BEAMS, make_untrained_policy
import numpy as np
import pytest

from twin_bridge.errors import ConfigError
from twin_bridge.learning.nav_policy import LAYOUT_FILE, NavPolicy
from twin_bridge.learning.policy_driver import PolicyDriver


@pytest.fixture(scope='module')
def policy(tmp_path_factory: pytest.TempPathFactory) -> NavPolicy:
    return NavPolicy(make_untrained_policy(tmp_path_factory.mktemp('policy')))


def test_live_scan_is_read_at_the_trained_angles(policy: NavPolicy) -> None:
    layout = policy.layout
    n = 720
    angle_min, inc = -math.pi, 2 * math.pi / n
    angles = angle_min + inc * np.arange(n)
    ranges = 1.0 + np.abs(np.sin(angles))        # range encodes the angle
    obs = policy.observe(ranges, angle_min, inc, (0.0, 0.0, 0.0), (0.0, 0.0), (2.0, 0.0))
    expected = (1.0 + np.abs(np.sin(layout.beam_angles))) / layout.lidar_range
    np.testing.assert_allclose(obs[:BEAMS], expected, atol=0.01)
    assert obs[BEAMS] == pytest.approx(2.0 / layout.goal_scale)
    assert obs[BEAMS + 1] == pytest.approx(1.0)  # goal straight ahead
    # The same scene seen with the robot turned left by 90 degrees: the goal is to the right.
    obs = policy.observe(ranges, angle_min, inc, (0.0, 0.0, math.pi / 2), (0.0, 0.0),
                         (2.0, 0.0))
    assert obs[BEAMS + 2] == pytest.approx(-1.0)


def test_commands_stay_within_the_trained_limits(policy: NavPolicy) -> None:
    rng = np.random.default_rng(0)
    for _ in range(20):
        obs = rng.uniform(policy.layout.bounds()[0], policy.layout.bounds()[1])
        v, w = policy.command(obs.astype(np.float32))
        assert abs(v) <= policy.layout.max_linear + 1e-9
        assert abs(w) <= policy.layout.max_angular + 1e-9


def test_driver_acts_stops_on_stale_inputs_and_at_the_goal(policy: NavPolicy) -> None:
    driver = PolicyDriver(policy, goal_tolerance=0.3, input_timeout=0.5)
    assert driver.tick(0.0) is None  # no goal: command nothing
    assert driver.on_goal(3.0, 0.0, 'odom')
    assert driver.tick(0.0).reason == 'stale_odometry'
    assert driver.on_odometry(0.0, 0.0, 0.0, 0.0, 0.0, 'odom', 1.0)
    command = driver.tick(1.0)
    assert (command.reason, command.linear, command.angular) == ('stale_scan', 0.0, 0.0)
    assert driver.on_scan(np.full(360, 2.0), -math.pi, math.pi / 180, 1.0)
    command = driver.tick(1.1)
    assert command.reason == 'policy' and command.distance == pytest.approx(3.0)
    assert driver.tick(1.7).reason == 'stale_odometry'  # 0.7 s old
    driver.on_odometry(2.8, 0.0, 0.0, 0.0, 0.0, 'odom', 2.0)
    command = driver.tick(2.0)
    assert (command.reason, command.linear, command.angular) == ('goal_reached', 0.0, 0.0)
    assert driver.goal is None and driver.tick(2.0) is None
    assert driver.commands['policy'] == 1 and driver.commands['goal_reached'] == 1


def test_driver_refuses_bad_inputs_and_counts_them(policy: NavPolicy) -> None:
    driver = PolicyDriver(policy)
    assert not driver.on_scan(np.zeros(0), 0.0, 0.1, 0.0)
    assert not driver.on_scan(np.ones(10), math.nan, 0.1, 0.0)
    assert not driver.on_scan(np.ones(10), 0.0, 0.0, 0.0)
    assert not driver.on_odometry(math.nan, 0.0, 0.0, 0.0, 0.0, 'odom', 0.0)
    assert not driver.on_goal(math.inf, 0.0, 'odom')
    driver.on_odometry(0.0, 0.0, 0.0, 0.0, 0.0, 'odom', 0.0)
    assert not driver.on_goal(1.0, 1.0, 'map')  # not the odometry's frame
    assert driver.goal is None
    assert dict(driver.rejected) == {'scan_empty': 1, 'scan_angles': 2,
                                     'odometry_non_finite': 1, 'goal_non_finite': 1,
                                     'goal_frame': 1}


def test_loading_errors_name_the_file(tmp_path: Path, policy: NavPolicy) -> None:
    with pytest.raises(ConfigError, match='policy.zip'):
        NavPolicy(tmp_path)
    (tmp_path / 'policy.zip').write_bytes((policy.path / 'policy.zip').read_bytes())
    with pytest.raises(ConfigError, match=LAYOUT_FILE):
        NavPolicy(tmp_path)
    (tmp_path / LAYOUT_FILE).write_text('{not json', encoding='utf-8')
    with pytest.raises(ConfigError, match='cannot read'):
        NavPolicy(tmp_path)
    layout = json.loads((policy.path / LAYOUT_FILE).read_text(encoding='utf-8'))
    layout['observation']['beam_angles'] = layout['observation']['beam_angles'][:5]
    (tmp_path / LAYOUT_FILE).write_text(json.dumps(layout), encoding='utf-8')
    with pytest.raises(ConfigError, match='observation values'):
        NavPolicy(tmp_path)
    (tmp_path / 'policy.zip').write_bytes(b'not a zip')
    with pytest.raises(ConfigError, match='cannot load'):
        NavPolicy(tmp_path)
