"""Named QoS profiles for the twin's topics."""

from __future__ import annotations

from rclpy.qos import (
    DurabilityPolicy,
    HistoryPolicy,
    QoSProfile,
    ReliabilityPolicy,
)

__all__ = ['qos_profile']


def qos_profile(name: str, depth: int) -> QoSProfile:
    """A keep-last volatile profile: ``'reliable'`` or ``'sensor_data'`` (best effort).

    A best-effort subscription also matches reliable publishers; a reliable one does not
    match best-effort publishers (rclpy logs the incompatibility).

    :raise ValueError: for another name
    """
    if name == 'reliable':
        reliability = ReliabilityPolicy.RELIABLE
    elif name == 'sensor_data':
        reliability = ReliabilityPolicy.BEST_EFFORT
    else:
        raise ValueError(f"unknown QoS {name!r}; expected 'reliable' or 'sensor_data'")
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=depth, reliability=reliability,
                      durability=DurabilityPolicy.VOLATILE)
