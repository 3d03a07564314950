"""How to reach an MQTT broker: address, credentials, TLS, keep-alive and reconnect backoff."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
import math
from pathlib import Path

from twin_bridge.errors import ConfigError

__all__ = ['BrokerSettings', 'add_broker_arguments', 'broker_settings_from_args']


@dataclass(frozen=True)
class BrokerSettings:
    """A broker and how to log in.

    ``password_file`` (its first line is the password) keeps the secret off command lines
    and out of parameter dumps; it wins over ``password``. TLS is on when ``tls`` is set or
    any ``tls_*`` file is given: ``tls_ca_file`` is the CA to trust (default: the system's),
    ``tls_cert_file``/``tls_key_file`` a client certificate, ``tls_insecure`` skips the
    host-name check (for a throwaway certificate, never in production). Reconnection waits
    ``reconnect_min_delay`` s, doubling after each failure up to ``reconnect_max_delay``.
    """

    host: str = '127.0.0.1'
    port: int = 1883
    username: str = ''
    password: str = ''
    password_file: str = ''
    tls: bool = False
    tls_ca_file: str = ''
    tls_cert_file: str = ''
    tls_key_file: str = ''
    tls_insecure: bool = False
    keepalive: int = 10
    reconnect_min_delay: float = 0.1
    reconnect_max_delay: float = 5.0

    def __post_init__(self) -> None:
        if not self.host:
            raise ConfigError('broker host: must not be empty')
        if not 0 < int(self.port) < 65536:
            raise ConfigError(f'broker port: {self.port} is not within 1..65535')
        if not 5 <= int(self.keepalive) <= 65535:
            raise ConfigError(f'keepalive: {self.keepalive} s is not within 5..65535')
        low, high = float(self.reconnect_min_delay), float(self.reconnect_max_delay)
        if not (math.isfinite(low) and math.isfinite(high) and 0 < low <= high):
            raise ConfigError(f'reconnect delays: need 0 < reconnect_min_delay ({low}) <= '
                              f'reconnect_max_delay ({high})')
        if (self.password or self.password_file) and not self.username:
            raise ConfigError('password given without a username')
        if bool(self.tls_cert_file) != bool(self.tls_key_file):
            raise ConfigError('tls_cert_file and tls_key_file go together (a client '
                              'certificate and its key)')
        for key in ('password_file', 'tls_ca_file', 'tls_cert_file', 'tls_key_file'):
            path = getattr(self, key)
            if path and not Path(path).is_file():
                raise ConfigError(f'{key}: {path}: no such file')

    @property
    def uses_tls(self) -> bool:
        """True when the connection is encrypted."""
        return bool(self.tls or self.tls_ca_file or self.tls_cert_file)

    def resolved_password(self) -> str | None:
        """The password (the first line of ``password_file`` if set), ``None`` for none.

        :raise ConfigError: the password file cannot be read, naming it
        """
        if self.password_file:
            try:
                text = Path(self.password_file).read_text(encoding='utf-8')
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError(f'password_file: {self.password_file}: {exc}') from None
            lines = text.splitlines()
            return lines[0] if lines else ''
        return self.password or None

    def describe(self) -> str:
        """``mqtt://user@host:port`` (``mqtts`` with TLS), without the password."""
        user = f'{self.username}@' if self.username else ''
        return f'{"mqtts" if self.uses_tls else "mqtt"}://{user}{self.host}:{self.port}'


def add_broker_arguments(parser: argparse.ArgumentParser) -> None:
    """The broker options of a command line (``--host``, ``--port``, ``--username``, ...)."""
    group = parser.add_argument_group('broker')
    group.add_argument('--host', default=BrokerSettings.host, help='broker host')
    group.add_argument('--port', type=int, default=BrokerSettings.port, help='broker port')
    group.add_argument('--username', default='', help='user name ("" = anonymous)')
    group.add_argument('--password-file', default='',
                       help='file whose first line is the password')
    group.add_argument('--tls', action='store_true', help='connect over TLS')
    group.add_argument('--tls-ca-file', default='', help='CA certificate to trust (PEM)')
    group.add_argument('--tls-cert-file', default='', help='client certificate (PEM)')
    group.add_argument('--tls-key-file', default='', help='client key (PEM)')
    group.add_argument('--tls-insecure', action='store_true',
                       help='do not check the broker\'s host name (test certificates only)')


def broker_settings_from_args(args: argparse.Namespace) -> BrokerSettings:
    """:class:`BrokerSettings` from options added by :func:`add_broker_arguments`.

    :raise ConfigError: an inconsistent combination (see :class:`BrokerSettings`)
    """
    return BrokerSettings(host=args.host, port=args.port, username=args.username,
                          password_file=args.password_file, tls=args.tls,
                          tls_ca_file=args.tls_ca_file, tls_cert_file=args.tls_cert_file,
                          tls_key_file=args.tls_key_file, tls_insecure=args.tls_insecure)
