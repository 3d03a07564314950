"""Child processes in their own process groups, always cleaned up (no orphans)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
import os
from pathlib import Path
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

__all__ = ['ManagedProcess', 'ProcessGroup', 'cpu_and_rss', 'die_with_parent_hook',
           'format_param', 'group_members', 'ros_argv', 'wait_for_exit']

#: ``prctl`` option asking the kernel for a signal when the parent dies (linux/prctl.h).
_PR_SET_PDEATHSIG = 1


def die_with_parent_hook(sig: int = signal.SIGTERM) -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the child receive ``sig`` when its parent dies, or
    ``None`` where that is not available (not Linux, no libc).

    Linux ``PR_SET_PDEATHSIG``: the signal comes even when the parent is SIGKILLed, so no
    child outlives it. It fires when the *thread* that started the child ends, so start
    children from a thread that lives as long as they should (e.g. the main thread). If the
    parent is already gone when the hook runs, the child signals itself at once.
    """
    if not sys.platform.startswith('linux'):
        return None
    import ctypes
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def hook() -> None:  # runs in the child between fork and exec: keep it minimal
        prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the request was in place
            os.kill(os.getpid(), sig)

    return hook



def format_param(value: Any) -> str:
    """A value as written after ``-p name:=`` on a ROS command line (YAML syntax)."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (list, tuple)):
        return '[' + ', '.join(format_param(v) for v in value) + ']'
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)


def ros_argv(module: str, params: Mapping[str, Any] | None = None,
             args: Iterable[str] = (), ros_args: Iterable[str] = ()) -> list[str]:
    """``python -u -m module args --ros-args -p name:=value ... ros_args`` for this interpreter."""
    argv = [sys.executable, '-u', '-m', module, *args]
    extra = [*ros_args]
    for name, value in (params or {}).items():
        extra += ['-p', f'{name}:={format_param(value)}']
    return argv + (['--ros-args', *extra] if extra else [])


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes in process group ``pgid``, from ``/proc`` (Linux)."""
    members = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open(f'/proc/{entry}/stat', encoding='ascii', errors='replace') as f:
                fields = f.read().rsplit(')', 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if fields[0] != 'Z' and int(fields[2]) == pgid:  # state, ppid, pgrp
            members.append(int(entry))
    return members


class ManagedProcess:
    """One child in a new session (its own process group), output captured to a log file.

    With ``die_with_parent`` (Linux) the child gets SIGTERM if this process dies, even by
    SIGKILL (see :func:`die_with_parent_hook`).
    """

    def __init__(self, name: str, argv: list[str], log_path: Path,
                 env: Mapping[str, str] | None = None, *, die_with_parent: bool = True) -> None:
        self.name = name
        self.argv = argv
        self.log_path = Path(log_path)
        child_env = {**os.environ, 'PYTHONUNBUFFERED': '1', 'RCUTILS_LOGGING_BUFFERED_STREAM': '0',
                     **(env or {})}
        hook = die_with_parent_hook() if die_with_parent else None
        with open(self.log_path, 'wb') as log:
            self.popen = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL, env=child_env,
                                          start_new_session=True,
                                          preexec_fn=hook)
        self.pid = self.popen.pid

    @property
    def returncode(self) -> int | None:
        """Exit code once the process has exited (negative: killed by that signal)."""
        return self.popen.poll()

    def running(self) -> bool:
        """True while the process has not exited."""
        return self.popen.poll() is None

    def output(self) -> str:
        """Everything the process wrote (stdout and stderr) so far."""
        try:
            return self.log_path.read_text(encoding='utf-8', errors='replace')
        except FileNotFoundError:
            return ''

    def tail(self, lines: int = 15) -> str:
        """The last ``lines`` lines of the process output."""
        return '\n'.join(self.output().rstrip().splitlines()[-lines:])

    def send_signal(self, sig: int) -> None:
        """Send ``sig`` to the process itself (not its group) if it is still running."""
        if self.running():
            try:
                self.popen.send_signal(sig)
            except ProcessLookupError:
                pass

    def wait(self, timeout: float) -> int | None:
        """Wait up to ``timeout`` s for exit; the exit code, or ``None`` if still running."""
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        """SIGKILL the whole process group."""
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def stop(self, timeout: float = 10.0, *, first_signal: int = signal.SIGINT) -> int:
        """Stop the process: ``first_signal`` (SIGINT), then SIGTERM, then SIGKILL to its
        whole group.

        Each step waits up to ``timeout / 2`` (SIGKILL: up to 5 s). Afterwards nothing of the
        group is left running.

        :return: the exit code (negative signal number if it had to be killed)
        """
        for sig in (first_signal, signal.SIGTERM):
            if not self.running():
                break
            self.send_signal(sig)
            self.wait(timeout / 2)
        code = self.popen.poll()
        if code is None or group_members(self.pid):
            self.kill()
            code = self.popen.wait(timeout=5.0)
        return code

    def __enter__(self) -> ManagedProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.running():
            self.stop(timeout=5.0)


class ProcessGroup:
    """A set of child processes stopped together (in reverse start order) on exit.

    Use as a context manager: children are stopped however the block is left, including
    ``KeyboardInterrupt`` and errors.
    """

    def __init__(self, log_dir: Path | None = None, *, die_with_parent: bool = True) -> None:
        """:param log_dir: where ``<name>.log`` files go (default: a new temporary directory)
        :param die_with_parent: children get SIGTERM when this process dies (Linux; see
            :func:`die_with_parent_hook`), so even a SIGKILL leaves no orphans
        """
        self.die_with_parent = die_with_parent
        self.log_dir = Path(log_dir) if log_dir else Path(tempfile.mkdtemp(prefix='twin_logs_'))
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.processes: dict[str, ManagedProcess] = {}
        self.exit_codes: dict[str, int] = {}

    def spawn(self, name: str, argv: list[str],
              env: Mapping[str, str] | None = None) -> ManagedProcess:
        """Start ``argv`` as child ``name`` (unique); output goes to ``<log_dir>/<name>.log``."""
        if name in self.processes:
            raise ValueError(f'a process named {name!r} is already in the group')
        proc = ManagedProcess(name, argv, self.log_dir / f'{name}.log', env,
                              die_with_parent=self.die_with_parent)
        self.processes[name] = proc
        return proc

    def spawn_node(self, name: str, module: str, params: Mapping[str, Any] | None = None,
                   env: Mapping[str, str] | None = None, **kwargs: Any) -> ManagedProcess:
        """Start a ROS node module (``python -m module --ros-args -p ...``) as child ``name``."""
        return self.spawn(name, ros_argv(module, params, **kwargs), env)

    def dead(self) -> list[ManagedProcess]:
        """Children that have exited (and were not stopped by :meth:`stop_all`)."""
        return [p for n, p in self.processes.items()
                if n not in self.exit_codes and not p.running()]

    def stop(self, name: str, timeout: float = 10.0) -> int:
        """Stop one child; its exit code is also kept in :attr:`exit_codes`."""
        code = self.processes[name].stop(timeout)
        self.exit_codes[name] = code
        return code

    def stop_all(self, timeout: float = 10.0) -> dict[str, int]:
        """Stop every child (last started first); return ``{name: exit code}``."""
        for name in reversed(list(self.processes)):
            if name not in self.exit_codes:
                self.stop(name, timeout)
        return dict(self.exit_codes)

    def __enter__(self) -> ProcessGroup:
        return self

    def __exit__(self, *exc: object) -> None:
        if threading.current_thread() is not threading.main_thread():
            self.stop_all()
            return
        # Ignore a second Ctrl-C while cleaning up, so cleanup always completes.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            self.stop_all()
        finally:
            signal.signal(signal.SIGINT, previous)


def wait_for_exit(pid: int, timeout: float) -> bool:
    """True once no process with ``pid`` exists (zombies count as gone)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f'/proc/{pid}/stat', encoding='ascii') as f:
                state = f.read().rsplit(')', 1)[1].split()[0]
            if state == 'Z':
                return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


def cpu_and_rss(pid: int) -> tuple[float, int]:
    """CPU time used so far (user + system, seconds) and resident set size (bytes) of ``pid``.

    Read from ``/proc/<pid>/stat`` and ``/proc/<pid>/status`` (Linux).
    """
    with open(f'/proc/{pid}/stat', encoding='ascii') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    ticks = os.sysconf('SC_CLK_TCK')
    cpu = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime (fields 14, 15)
    rss = 0
    with open(f'/proc/{pid}/status', encoding='ascii') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                rss = int(line.split()[1]) * 1024
                break
    return cpu, rss
