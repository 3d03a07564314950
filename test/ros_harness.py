"""Helpers for tests over real DDS: nodes as subprocesses, a test-side rclpy node, deadlines.

Typical use::

    with RosTestContext('my_test') as ros, spawn_node('twin_bridge.ros.bridge_node',
                                                        params={'world': 'empty'}) as proc:
        sub = ros.collect('virtual/odom', Odometry)
        pub = ros.node.create_publisher(Odometry, 'odom', 10)
        ros.wait_for_subscribers(pub, timeout=20.0, process=proc)
        ...
        assert proc.stop() == 0

The ROS domain and discovery range come from ``test/conftest.py`` through the environment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
import signal
import tempfile
import time
from typing import Any

from twin_bridge.demo.process_group import ManagedProcess, format_param, ros_argv
from twin_bridge.ros.private_context import PrivateContext

__all__ = [
    'Collector',
    'NodeProcess',
    'RosTestContext',
    'format_param',
    'spawn_node',
    'wait_until',
    'write_params_file',
]


def wait_until(predicate: Callable[[], bool], timeout: float, step: float = 0.02) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass; return its last value."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(step)


def write_params_file(path: Path, node_name: str, params: Mapping[str, Any]) -> Path:
    """Write a ROS 2 parameters YAML (``node_name: ros__parameters: ...``) and return its path.

    Use it for values that are awkward on a command line (e.g. a URDF string).
    """
    import yaml  # test dependency, imported lazily so the module imports without it
    path = Path(path)
    path.write_text(yaml.safe_dump({node_name: {'ros__parameters': dict(params)}}),
                    encoding='utf-8')
    return path


class NodeProcess(ManagedProcess):
    """A node process (see :class:`twin_bridge.demo.process_group.ManagedProcess`) whose ``stop``
    takes the signal to try first, as the signal tests need."""

    def stop(self, sig: int = signal.SIGINT, timeout: float = 15.0) -> int:
        """Send ``sig``, then SIGTERM, then SIGKILL the group; return the exit code."""
        return super().stop(timeout, first_signal=sig)


def spawn_node(module: str, *, params: Mapping[str, Any] | None = None,
               params_file: Path | None = None, args: Iterable[str] = (),
               ros_args: Iterable[str] = (), env: Mapping[str, str] | None = None,
               log_dir: Path | None = None) -> NodeProcess:
    """Start ``python -m module`` in a new session (so SIGINT reaches it directly).

    :param module: e.g. ``'twin_bridge.ros.bridge_node'``
    :param params: node parameters, passed as ``-p name:=value``
    :param params_file: a parameters YAML, passed as ``--params-file``
    :param args: plain arguments placed before ``--ros-args``
    :param ros_args: extra arguments after ``--ros-args`` (e.g. ``['-r', '__ns:=/robot1']``)
    :param env: extra environment variables (on top of ``os.environ``)
    :param log_dir: where the combined stdout/stderr file goes (default: a temp dir)
    """
    if params_file is not None:
        ros_args = [*ros_args, '--params-file', str(params_file)]
    argv = ros_argv(module, params, args, ros_args)
    log_dir = Path(log_dir) if log_dir is not None else Path(tempfile.mkdtemp(prefix='ros_node_'))
    log_path = log_dir / f'{module.rsplit(".", 1)[-1]}_{time.monotonic_ns()}.log'
    return NodeProcess(module, argv, log_path, env)


class Collector:
    """Keeps every message received on one topic with its receive time (``time.time()``)."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.receive_times: list[float] = []

    def __call__(self, msg: Any) -> None:
        self.receive_times.append(time.time())
        self.messages.append(msg)

    def __len__(self) -> int:
        return len(self.messages)

    @property
    def last(self) -> Any:
        """The newest message (``None`` before the first)."""
        return self.messages[-1] if self.messages else None

    def clear(self) -> None:
        """Forget the messages received so far."""
        self.messages.clear()
        self.receive_times.clear()


class RosTestContext(PrivateContext):
    """An rclpy context, node and executor private to a test (no signal handlers installed)."""

    spin_step = 0.02

    def __init__(self, node_name: str = 'test_observer') -> None:
        super().__init__(node_name)

    def spin_until(self, predicate: Callable[[], bool], timeout: float,
                   process: NodeProcess | None = None) -> bool:
        """Process callbacks until ``predicate()`` is true or ``timeout`` seconds pass.

        :param process: if given, stop early (returning False) when that process has exited
        """
        abort = (lambda: not process.running()) if process is not None else None
        return super().spin_until(predicate, timeout, abort)

    def collect(self, topic: str, msg_type: type, qos: Any = 10) -> Collector:
        """Subscribe to ``topic`` and return a :class:`Collector` filled while spinning."""
        collector = Collector()
        collector.subscription = self.node.create_subscription(msg_type, topic, collector, qos)
        return collector

    def wait_for_subscribers(self, publisher: Any, timeout: float, count: int = 1,
                             process: NodeProcess | None = None) -> bool:
        """Spin until ``publisher`` is matched by at least ``count`` subscriptions."""
        return self.spin_until(lambda: publisher.get_subscription_count() >= count,
                               timeout, process)

    def wait_for_publishers(self, topic: str, timeout: float, count: int = 1,
                            process: NodeProcess | None = None) -> bool:
        """Spin until at least ``count`` publishers exist for ``topic`` (fully qualified)."""
        return self.spin_until(lambda: self.node.count_publishers(topic) >= count,
                               timeout, process)
