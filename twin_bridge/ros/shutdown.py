"""Telling a signal's clean stop from a bug when an exception ends a node's spin."""

from __future__ import annotations

import time

import rclpy

__all__ = ['shut_down_by_signal']


def shut_down_by_signal(wait_s: float = 1.0) -> bool:
    """True if the default context is shut down, or goes down within ``wait_s``.

    A SIGINT/SIGTERM that lands inside rclpy's C++ ``take`` surfaces in the main thread as
    another exception (a pybind11 ``RuntimeError``) a moment before rclpy's signal handler
    shuts the context down: waiting briefly tells that clean stop from a real bug (after
    which the context stays up and the caller re-raises).
    """
    deadline = time.monotonic() + wait_s
    while rclpy.ok():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True
