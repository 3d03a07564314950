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
from dataclasses import dataclass, field
import os
from pathlib import Path
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any

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


def format_param(value: Any) -> str:
    """A value as written after ``-p name:=`` on a ROS command line (YAML syntax)."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (list, tuple)):
        return '[' + ', '.join(format_param(v) for v in value) + ']'
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)


def write_params_file(path: Path, node_name: str, params: Mapping[str, Any]) -> Path:
    """Write a ROS 2 parameters YAML (``node_name: ros__parameters: ...``) and return its path.

    Use it for values that are awkward on a command line (e.g. a URDF string).
    """
    import yaml  # test dependency, imported lazily so the module imports without it
    path = Path(path)
    path.write_text(yaml.safe_dump({node_name: {'ros__parameters': dict(params)}}),
                    encoding='utf-8')
    return path


@dataclass
class NodeProcess:
    """A node running as a child process in its own session, its output going to a file."""

    popen: subprocess.Popen
    log_path: Path
    argv: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int:
        """Process id of the node."""
        return self.popen.pid

    def running(self) -> bool:
        """True while the process has not exited."""
        return self.popen.poll() is None

    def output(self) -> str:
        """Everything the process wrote to stdout and stderr so far."""
        try:
            return self.log_path.read_text(encoding='utf-8', errors='replace')
        except FileNotFoundError:
            return ''

    def send_signal(self, sig: int) -> None:
        """Send ``sig`` to the node process itself (not its group)."""
        if self.running():
            self.popen.send_signal(sig)

    def wait(self, timeout: float) -> int | None:
        """Wait up to ``timeout`` s for exit; the exit code, or ``None`` if still running."""
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, sig: int = signal.SIGINT, timeout: float = 15.0) -> int:
        """Send ``sig`` and wait for exit; kill the process group if it does not exit in time.

        :return: the exit code (negative signal number if it had to be killed)
        """
        self.send_signal(sig)
        code = self.wait(timeout)
        if code is None:
            self.kill()
            code = self.popen.wait(timeout=5.0)
        return code

    def kill(self) -> None:
        """SIGKILL the node's whole process group (it runs in its own session)."""
        if self.running():
            try:
                os.killpg(self.popen.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def __enter__(self) -> NodeProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.running():
            self.stop(timeout=5.0)


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
    argv = [sys.executable, '-u', '-m', module, *args]
    extra = list(ros_args)
    for name, value in (params or {}).items():
        extra += ['-p', f'{name}:={format_param(value)}']
    if params_file is not None:
        extra += ['--params-file', str(params_file)]
    if extra:
        argv += ['--ros-args', *extra]
    log_dir = Path(log_dir) if log_dir is not None else Path(tempfile.mkdtemp(prefix='ros_node_'))
    log_path = log_dir / f'{module.rsplit(".", 1)[-1]}_{time.monotonic_ns()}.log'
    child_env = dict(os.environ)
    child_env.setdefault('PYTHONUNBUFFERED', '1')
    child_env['RCUTILS_LOGGING_BUFFERED_STREAM'] = '0'
    child_env.update(env or {})
    with open(log_path, 'wb') as log:
        popen = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, env=child_env,
                                 start_new_session=True)
    return NodeProcess(popen, log_path, argv)


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


class RosTestContext:
    """An rclpy context, node and executor private to a test (no signal handlers installed)."""

    def __init__(self, node_name: str = 'test_observer') -> None:
        self._node_name = node_name
        self.context: Any = None
        self.node: Any = None
        self.executor: Any = None

    def __enter__(self) -> RosTestContext:
        import rclpy
        from rclpy.context import Context
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.signals import SignalHandlerOptions
        self.context = Context()
        rclpy.init(context=self.context, signal_handler_options=SignalHandlerOptions.NO)
        self.node = rclpy.create_node(self._node_name, context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.executor is not None:
            self.executor.shutdown()
        if self.node is not None:
            self.node.destroy_node()
        if self.context is not None:
            self.context.try_shutdown()

    def spin_for(self, seconds: float) -> None:
        """Process callbacks for ``seconds``."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self.executor.spin_once(timeout_sec=min(left, 0.05))

    def spin_until(self, predicate: Callable[[], bool], timeout: float,
                   process: NodeProcess | None = None) -> bool:
        """Process callbacks until ``predicate()`` is true or ``timeout`` seconds pass.

        :param process: if given, stop early (returning False) when that process has exited
        """
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() >= deadline:
                return False
            if process is not None and not process.running():
                return predicate()
            self.executor.spin_once(timeout_sec=0.02)
        return True

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
