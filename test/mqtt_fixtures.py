"""A real mosquitto broker per test: a free 127.0.0.1 port, anonymous clients refused, one
user from ``mosquitto_passwd -b -c``; and helpers to talk to it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
import subprocess

from twin_bridge.mqtt.broker_settings import BrokerSettings
from twin_bridge.mqtt.local_broker import LocalBroker, free_port, write_broker_files

USER, PASSWORD = 'twin', 'correct horse'


def running_broker(tmp_path: Path) -> Iterator[LocalBroker]:
    """``/usr/sbin/mosquitto -c <tmp conf>`` running and accepting connections, stopped after:
    a test module's fixture is ``yield from running_broker(tmp_path)``."""
    files = write_broker_files(tmp_path / 'broker', free_port(), USER, PASSWORD)
    assert 'allow_anonymous false' in files.config.read_text()
    server = LocalBroker(files)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def settings_for(server: LocalBroker, **overrides: object) -> BrokerSettings:
    """Settings of the broker's user (password from its file), with ``overrides``."""
    values = {'port': server.files.port, 'username': USER,
              'password_file': str(server.files.password_file), 'reconnect_max_delay': 0.5}
    values.update(overrides)
    return BrokerSettings(**values)


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A throwaway self-signed certificate for 127.0.0.1/localhost: ``(cert, key)``."""
    cert, key = directory / 'cert.pem', directory / 'key.pem'
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
                    '-keyout', str(key), '-out', str(cert), '-subj', '/CN=localhost',
                    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
                   check=True, capture_output=True, timeout=60)
    return cert, key
