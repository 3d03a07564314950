"""A throwaway mosquitto broker on a free loopback port with password authentication (for
the demo, the tests and the benchmark; Debian's ``mosquitto`` package)."""

from __future__ import annotations

from dataclasses import dataclass
import os
from pathlib import Path
import pwd
import shutil
import socket
import subprocess
import time

from twin_bridge.errors import ConfigError

__all__ = ['BrokerFiles', 'LocalBroker', 'free_port', 'mosquitto_path', 'wait_for_port',
           'write_broker_files']

_MOSQUITTO_PATHS = ('/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto')


def mosquitto_path() -> str | None:
    """The mosquitto executable, or ``None`` if it is not installed."""
    for path in _MOSQUITTO_PATHS:
        if os.access(path, os.X_OK):
            return path
    return shutil.which('mosquitto')


def free_port(host: str = '127.0.0.1') -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def wait_for_port(host: str, port: int, timeout: float) -> bool:
    """True once ``host:port`` accepts TCP connections (polled until ``timeout`` s)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return True
        except OSError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)


@dataclass(frozen=True)
class BrokerFiles:
    """A broker's configuration: ``config`` for ``mosquitto -c``, the credentials it knows."""

    config: Path
    port: int
    username: str
    password: str
    password_file: Path  # the client's: the password alone on its first line


def write_broker_files(directory: Path, port: int, username: str = 'twin',
                       password: str = 'twin-secret', *,
                       tls: tuple[Path, Path] | None = None) -> BrokerFiles:
    """Write a mosquitto configuration listening on ``127.0.0.1:port`` with anonymous
    clients refused and one user (made with ``mosquitto_passwd -b -c``).

    :param tls: ``(certificate, key)`` files of the broker: the listener speaks TLS
    :raise ConfigError: ``mosquitto_passwd`` is missing or fails
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    passwd = directory / 'passwd'
    tool = shutil.which('mosquitto_passwd') or '/usr/bin/mosquitto_passwd'
    try:
        subprocess.run([tool, '-b', '-c', str(passwd), username, password], check=True,
                       capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError) as exc:
        raise ConfigError(f'mosquitto_passwd: cannot write {passwd}: {exc}') from None
    passwd.chmod(0o600)
    # Started as root, mosquitto would switch to the 'mosquitto' user and then fail to read
    # our private files: stay who we are (a non-root start ignores the option).
    lines = [f'user {pwd.getpwuid(os.getuid()).pw_name}', f'listener {port} 127.0.0.1',
             'allow_anonymous false', f'password_file {passwd}',
             'persistence false', 'log_dest stdout', 'log_type error', 'log_type warning',
             'log_type notice', 'max_queued_messages 1000',
             'set_tcp_nodelay true']  # no Nagle delay on a 50 Hz stream
    if tls is not None:
        lines += [f'certfile {tls[0]}', f'keyfile {tls[1]}']
    config = directory / 'mosquitto.conf'
    config.write_text('\n'.join(lines) + '\n', encoding='utf-8')
    client_password = directory / 'client_password'
    client_password.write_text(password + '\n', encoding='utf-8')
    client_password.chmod(0o600)
    return BrokerFiles(config, port, username, password, client_password)


class LocalBroker:
    """``mosquitto -c <config>`` as a child process in its own session, stopped on exit.

    :meth:`start` can be called again after :meth:`kill` (same port, same users), as a
    broker restart.
    """

    def __init__(self, files: BrokerFiles, log_path: Path | None = None) -> None:
        self.files = files
        self.log_path = Path(log_path) if log_path else files.config.with_suffix('.log')
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 10.0) -> None:
        """Start the broker and wait until it accepts connections.

        :raise ConfigError: mosquitto is missing, exits, or does not listen in time
        """
        exe = mosquitto_path()
        if exe is None:
            raise ConfigError('mosquitto is not installed (Debian: apt-get install mosquitto)')
        with open(self.log_path, 'ab') as log:
            self.process = subprocess.Popen([exe, '-c', str(self.files.config)], stdout=log,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True)
        deadline = time.monotonic() + timeout
        while not wait_for_port('127.0.0.1', self.files.port, 0.1):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise ConfigError(f'mosquitto -c {self.files.config} did not start: '
                                  f'{self.log_path.read_text(errors="replace")[-500:]}')

    def kill(self) -> None:
        """Stop the broker at once (SIGKILL: an outage, not a goodbye)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=5.0)
        self.process = None

    def stop(self) -> None:
        """Stop the broker (SIGTERM, then SIGKILL)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5.0)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None

    def __enter__(self) -> LocalBroker:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
