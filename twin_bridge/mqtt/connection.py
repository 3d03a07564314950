"""One paho-mqtt 2.x client (callback API version 2) that stays connected: reconnects with
exponential backoff, re-subscribes after every reconnect, and says when it is connected."""

from __future__ import annotations

from collections.abc import Callable, Mapping
import socket
import ssl
import threading
import time
from typing import Any

from twin_bridge.errors import ConfigError
from twin_bridge.mqtt.broker_settings import BrokerSettings

try:
    import paho.mqtt.client as mqtt
    _PAHO_2 = hasattr(mqtt, 'CallbackAPIVersion')
except ImportError:  # an optional dependency: only robots over MQTT need it
    mqtt, _PAHO_2 = None, False

#: How to get what this module needs (Ubuntu 24.04's python3-paho-mqtt is 1.6: too old).
PAHO_HINT = 'robots over MQTT need paho-mqtt 2.x: pip install "paho-mqtt>=2.0,<3"'

__all__ = ['MqttConnection']

#: QoS 1 messages paho keeps while the broker is away (beyond that, publishing fails and is
#: counted as dropped): bounded memory however long the outage.
MAX_QUEUED_MESSAGES = 100


def _no_delay(client: mqtt.Client, userdata: Any, sock: Any) -> None:
    """Send small packets at once: with Nagle's algorithm a state message waits for the ACK
    of the previous one (tens of ms with delayed ACKs), and paho leaves it on."""
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, AttributeError):  # not a TCP socket (e.g. a unix socket)
        pass


class MqttConnection:
    """A client of one broker, running paho's network loop on its own thread.

    The loop reconnects on its own: after a lost connection or a refused attempt it waits
    ``settings.reconnect_min_delay`` s, doubling up to ``reconnect_max_delay``, and resets the
    wait once the broker accepts it. Subscriptions (``topic -> QoS``) are made again on every
    connect. ``on_message(topic, payload)`` and ``on_connection(connected)`` run on the loop's
    thread.

    :param will: ``(topic, payload)`` the broker publishes (retained, QoS 1) if this client
        vanishes without disconnecting
    """

    def __init__(self, settings: BrokerSettings, client_id: str, *,
                 subscriptions: Mapping[str, int] | None = None,
                 on_message: Callable[[str, bytes], None] | None = None,
                 on_connection: Callable[[bool], None] | None = None,
                 log: Callable[[str], None] | None = None,
                 will: tuple[str, bytes] | None = None) -> None:
        if not _PAHO_2:
            raise ConfigError(PAHO_HINT)
        self.settings = settings
        self.subscriptions = dict(subscriptions or {})
        self._on_message = on_message
        self._on_connection = on_connection
        self._log = log or (lambda text: None)
        self._connected = threading.Event()
        self._refused = threading.Event()  # the broker's last answer was a refusal
        self.connects = 0
        self.disconnects = 0
        self.refusals = 0
        self.dropped = 0
        self.last_error = ''
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                             protocol=mqtt.MQTTv311, clean_session=True)
        if settings.username:
            client.username_pw_set(settings.username, settings.resolved_password())
        if settings.uses_tls:
            client.tls_set(ca_certs=settings.tls_ca_file or None,
                           certfile=settings.tls_cert_file or None,
                           keyfile=settings.tls_key_file or None,
                           cert_reqs=ssl.CERT_REQUIRED)
            client.tls_insecure_set(settings.tls_insecure)
        if will is not None:
            client.will_set(will[0], will[1], qos=1, retain=True)
        client.reconnect_delay_set(settings.reconnect_min_delay, settings.reconnect_max_delay)
        client.max_queued_messages_set(MAX_QUEUED_MESSAGES)
        client.on_connect = self._handle_connect
        client.on_subscribe = self._handle_subscribe
        client.on_disconnect = self._handle_disconnect
        client.on_connect_fail = self._handle_connect_fail
        client.on_message = self._handle_message
        client.on_socket_open = _no_delay
        self.client = client
        self._started = False
        self._stopping = False
        self._subscribe_mid: int | None = None

    @property
    def connected(self) -> bool:
        """True while the broker has accepted this client (and acknowledged its
        subscriptions) and the link is up."""
        return self._connected.is_set()

    def start(self) -> None:
        """Connect in the background (retrying until the broker is there) and run the loop."""
        s = self.settings
        self.client.connect_async(s.host, int(s.port), keepalive=int(s.keepalive))
        self.client.loop_start()
        self._started = True

    def wait_connected(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for the broker to accept this client and acknowledge its
        subscriptions; False at once when it refuses it (bad credentials: :attr:`last_error`
        says why)."""
        deadline = time.monotonic() + timeout
        while not self._connected.wait(min(0.02, max(deadline - time.monotonic(), 0.0))):
            if self._refused.is_set() or time.monotonic() >= deadline:
                return False
        return True

    def publish(self, topic: str, payload: bytes, qos: int = 0, retain: bool = False) -> bool:
        """Send ``payload``; False (and counted in :attr:`dropped`) when it cannot go now:
        QoS 0 while disconnected, or the QoS 1 queue full."""
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc != mqtt.MQTT_ERR_SUCCESS and not (qos and info.rc == mqtt.MQTT_ERR_NO_CONN):
            self.dropped += 1
            return False
        return info.rc == mqtt.MQTT_ERR_SUCCESS

    def stop(self, final: tuple[str, bytes] | None = None) -> None:
        """Disconnect cleanly (the will is not sent) and end the loop thread.

        :param final: ``(topic, payload)`` published retained (QoS 1) just before leaving,
            e.g. an ``offline`` status
        """
        if not self._started:
            return
        self._stopping = True
        if final is not None and self.connected:
            info = self.client.publish(final[0], final[1], qos=1, retain=True)
            try:
                info.wait_for_publish(1.0)
            except (RuntimeError, ValueError):  # the link went down meanwhile
                pass
        self.client.disconnect()
        self.client.loop_stop()
        self._started = False
        self._connected.clear()

    def _handle_connect(self, client: mqtt.Client, userdata: Any, flags: Any,
                        reason_code: Any, properties: Any) -> None:
        if reason_code.is_failure:
            self.refusals += 1
            self._refused.set()
            self.last_error = f'refused by {self.settings.describe()}: {reason_code}'
            self._log(self.last_error)
            return
        self.connects += 1
        self._refused.clear()
        if self.subscriptions:  # connected once the broker has acknowledged them
            self._subscribe_mid = client.subscribe(list(self.subscriptions.items()))[1]
        else:
            self._ready()

    def _handle_subscribe(self, client: mqtt.Client, userdata: Any, mid: int,
                          reason_codes: Any, properties: Any) -> None:
        if mid == self._subscribe_mid:
            self._ready()

    def _ready(self) -> None:
        """Accepted, and subscribed to :attr:`subscriptions`: messages now arrive."""
        self._connected.set()
        self._log(f'connected to {self.settings.describe()}'
                  + (f' (reconnect {self.connects - 1})' if self.connects > 1 else ''))
        if self._on_connection is not None:
            self._on_connection(True)

    def _handle_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any,
                           reason_code: Any, properties: Any) -> None:
        was_connected = self._connected.is_set()
        self._connected.clear()
        if not was_connected or self._stopping:
            return
        self.disconnects += 1
        self.last_error = f'connection lost: {reason_code}'
        self._log(f'{self.last_error}; reconnecting with backoff '
                  f'{self.settings.reconnect_min_delay:g}..{self.settings.reconnect_max_delay:g} s')
        if self._on_connection is not None:
            self._on_connection(False)

    def _handle_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        self.last_error = f'cannot reach {self.settings.describe()}'

    def _handle_message(self, client: mqtt.Client, userdata: Any,
                        message: mqtt.MQTTMessage) -> None:
        if self._on_message is not None:
            self._on_message(message.topic, message.payload)
