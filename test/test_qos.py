"""Tests for twin_bridge.ros.qos: the named profiles."""

import pytest
from rclpy.qos import DurabilityPolicy, HistoryPolicy, ReliabilityPolicy

from twin_bridge.ros.qos import qos_profile


@pytest.mark.parametrize('name, reliability', [
    ('reliable', ReliabilityPolicy.RELIABLE),
    ('sensor_data', ReliabilityPolicy.BEST_EFFORT),
])
def test_named_profiles_are_bounded_keep_last(name, reliability):
    profile = qos_profile(name, 3)
    assert profile.reliability == reliability
    assert profile.history == HistoryPolicy.KEEP_LAST and profile.depth == 3
    assert profile.durability == DurabilityPolicy.VOLATILE


def test_unknown_name_is_rejected():
    with pytest.raises(ValueError, match="unknown QoS 'fast'"):
        qos_profile('fast', 10)
