"""The stand-in base that follows velocity commands: lag, limits, timeout, slip, exact arcs."""

import math

import numpy as np
import pytest

from twin_bridge.stand_in.cmd_vel_motion import CmdVelBase
from twin_bridge.stand_in.motion_profiles import make_motion


def test_immediate_response_drives_the_exact_arc():
    base = CmdVelBase((1.0, 2.0, 0.5), response_time=0.0, max_linear_accel=1e9,
                      max_angular_accel=1e9, command_timeout=10.0)
    base.command(0.4, 0.8, 0.0)
    b = base(2.0)
    # Arc from (1, 2) heading 0.5: radius v/w = 0.5, turned 1.6 rad.
    r, turn = 0.5, 1.6
    assert float(b.x) == pytest.approx(1.0 + r * (math.sin(0.5 + turn) - math.sin(0.5)))
    assert float(b.y) == pytest.approx(2.0 - r * (math.cos(0.5 + turn) - math.cos(0.5)))
    assert float(b.yaw) == pytest.approx(0.5 + turn)
    assert float(b.distance) == pytest.approx(0.8)
    assert (float(b.linear), float(b.angular)) == pytest.approx((0.4, 0.8))


def test_first_order_lag_and_acceleration_limit():
    lag = CmdVelBase(response_time=0.1, max_linear_accel=1e9)
    lag.command(1.0, 0.0, 0.0)
    assert float(lag(0.1).linear) == pytest.approx(1.0 - math.exp(-1.0), abs=1e-3)
    limited = CmdVelBase(response_time=0.0, max_linear_accel=2.0, command_timeout=10.0)
    limited.command(1.0, 0.0, 0.0)
    assert float(limited(0.25).linear) == pytest.approx(0.5)
    assert float(limited(1.0).linear) == pytest.approx(1.0)
    # Ramp 0.5 s at 2 m/s^2 (0.25 m), then 0.5 s at 1 m/s.
    assert float(limited(1.0).x) == pytest.approx(0.75, abs=1e-3)


def test_a_stale_command_stops_the_base():
    base = CmdVelBase(response_time=0.0, max_linear_accel=1e9, command_timeout=0.5)
    base.command(0.5, 0.0, 0.0)
    assert float(base(0.4).linear) == pytest.approx(0.5)
    assert float(base(0.7).linear) == 0.0
    assert float(base(2.0).x) == pytest.approx(0.25, abs=2e-3)


def test_slip_scales_the_base_motion_and_time_never_goes_back():
    base = CmdVelBase(response_time=0.0, max_linear_accel=1e9, slip=lambda t: 0.5,
                      command_timeout=10.0)
    base.command(1.0, 0.0, 0.0)
    assert float(base(1.0).x) == pytest.approx(0.5)
    assert float(base(0.5).x) == pytest.approx(0.5)      # an earlier time: the current state


def test_non_finite_commands_are_rejected_and_counted():
    base = CmdVelBase(response_time=0.0, max_linear_accel=1e9)
    assert base.command(0.2, 0.0, 0.0)
    assert not base.command(math.nan, 0.0, 0.1)
    assert not base.command(0.0, math.inf, 0.1)
    assert base.counts == {'commands': 1, 'rejected': 2}
    assert float(base(0.3).linear) == pytest.approx(0.2)


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError, match='cmd_vel base'):
        CmdVelBase(response_time=-1.0)
    with pytest.raises(ValueError, match='cmd_vel base'):
        CmdVelBase((math.nan, 0.0, 0.0))


def test_wheels_follow_the_base_through_the_scripted_motion():
    base = CmdVelBase(response_time=0.0, max_linear_accel=1e9, max_angular_accel=1e9,
                      command_timeout=10.0)
    motion = make_motion('cmd_vel', [('l', None, None), ('r', None, None), ('pan', -1.0, 1.0)],
                         ('l', 'r'), base=base)
    base.command(0.3, 0.0, 0.0)
    joints = motion.joint_state(1.0)
    assert np.allclose(joints.positions[:2], 0.3 / motion.geometry.wheel_radius)
    assert joints.positions[2] == 0.0
    assert motion.odometry(1.0).position[0] == pytest.approx(0.3)
    with pytest.raises(ValueError, match='needs the base'):
        make_motion('cmd_vel', [('l', None, None)])
