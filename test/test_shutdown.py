"""shut_down_by_signal: a clean stop when the context goes down shortly after an exception."""

import threading

import rclpy

from twin_bridge.ros.shutdown import shut_down_by_signal


def test_context_going_down_soon_is_a_signal_stop_and_one_staying_up_is_not():
    rclpy.init(args=[])
    try:
        assert not shut_down_by_signal(0.05)  # a bug: the context stays up
        threading.Timer(0.1, rclpy.shutdown).start()
        assert shut_down_by_signal(5.0)  # the signal handler shuts it down a moment later
        assert shut_down_by_signal(0.0)
    finally:
        rclpy.try_shutdown()
