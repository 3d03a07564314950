"""Running a node until SIGINT/SIGTERM, and telling a signal's clean stop from a bug."""

from __future__ import annotations

from collections.abc import Callable
import sys
import time
from typing import TypeVar

import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node

from twin_bridge.errors import TwinBridgeError

__all__ = ['run_node', 'shut_down_by_signal']

N = TypeVar('N', bound=Node)


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


def run_node(program: str, argv: list[str], make_node: Callable[[], N], *,
             spin: Callable[[N], None] = rclpy.spin,
             on_exit: Callable[[N], None] | None = None) -> int:
    """``rclpy.init`` with ``argv``, build the node and ``spin`` it until SIGINT/SIGTERM (or
    until ``spin`` returns); return the exit code.

    A bad parameter or configuration (``ValueError``, :class:`TwinBridgeError`) while
    starting is printed as ``program: message`` and returns 2; a signal is a clean stop
    (0), also when it surfaces as another exception inside rclpy. ``on_exit(node)`` runs
    before the node is destroyed (stop threads, print a summary).
    """
    rclpy.init(args=argv)
    node = None
    try:
        node = make_node()
        spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except (ValueError, TwinBridgeError) as exc:
        print(f'{program}: {exc}', file=sys.stderr)
        return 2
    except Exception:
        if not shut_down_by_signal():
            raise
    finally:
        if node is not None:
            if on_exit is not None:
                on_exit(node)
            node.destroy_node()
        rclpy.try_shutdown()
    return 0
