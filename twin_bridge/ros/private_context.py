"""An rclpy context, node and executor of one's own, for tools and tests inside a process."""

from __future__ import annotations

from collections.abc import Callable
import time
from typing import Any, Self

import rclpy
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions

__all__ = ['PrivateContext']


class PrivateContext:
    """One node spun by a single-threaded executor in an rclpy context private to its user.

    Installs no signal handlers: the caller keeps Ctrl-C. Use as a context manager; leaving
    it destroys the node and shuts the context down. Subclasses say which node to create by
    overriding :meth:`create_node` (the default is a plain node named ``node_name``).
    """

    #: Longest wait (s) of one executor pass in :meth:`spin_for` and :meth:`spin_until`.
    spin_step = 0.05

    def __init__(self, node_name: str = 'private_node') -> None:
        """:param node_name: name of the default node (see :meth:`create_node`)"""
        self.node_name = node_name
        self.context: Context | None = None
        self.node: Any = None
        self.executor: SingleThreadedExecutor | None = None

    def create_node(self, context: Context) -> Node:
        """The node to spin, created in ``context``."""
        return rclpy.create_node(self.node_name, context=context)

    def __enter__(self) -> Self:
        self.context = Context()
        rclpy.init(context=self.context, signal_handler_options=SignalHandlerOptions.NO)
        try:
            self.node = self.create_node(self.context)
            self.executor = SingleThreadedExecutor(context=self.context)
            self.executor.add_node(self.node)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self.executor is not None:
            self.executor.shutdown()
        if self.node is not None:
            self.node.destroy_node()
        if self.context is not None:
            self.context.try_shutdown()

    def spin_once(self, timeout: float = 0.05) -> None:
        """Process pending callbacks, waiting at most ``timeout`` seconds for one."""
        self.executor.spin_once(timeout_sec=timeout)

    def spin_for(self, seconds: float) -> None:
        """Process callbacks for ``seconds``."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self.executor.spin_once(timeout_sec=min(left, self.spin_step))

    def spin_until(self, predicate: Callable[[], bool], timeout: float,
                   abort: Callable[[], bool] | None = None) -> bool:
        """Process callbacks until ``predicate()`` holds or ``timeout`` seconds pass or
        ``abort()`` holds; return ``predicate()``."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() >= deadline or (abort is not None and abort()):
                return predicate()
            self.executor.spin_once(timeout_sec=self.spin_step)
        return True
