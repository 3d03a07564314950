"""A minimal Foxglove WebSocket protocol client for tests (websocket-client + protobuf)."""

from __future__ import annotations

import base64
import json
import struct
import time

from google.protobuf import descriptor_pb2, message_factory
import websocket

# foxglove-sdk 0.30 accepts only its own subprotocol name (not foxglove.websocket.v1).
SUBPROTOCOL = 'foxglove.sdk.v1'


class FoxgloveClient:
    """Connects, reads ``advertise``, subscribes by topic and decodes ``messageData`` frames
    (opcode 0x01: uint32 subscription id, uint64 log time, payload) with the advertised
    protobuf FileDescriptorSet."""

    def __init__(self, port: int, timeout: float = 10.0) -> None:
        self.ws = websocket.create_connection(f'ws://127.0.0.1:{port}',
                                              subprotocols=[SUBPROTOCOL], timeout=timeout)
        self.channels: dict[str, dict] = {}
        self.server_info: dict | None = None
        self._subs: dict[int, tuple[str, type]] = {}

    def wait_for_channels(self, topics: list[str], timeout: float = 10.0) -> None:
        """Read control messages until every topic in ``topics`` is advertised."""
        deadline = time.monotonic() + timeout
        while not set(topics) <= set(self.channels):
            assert time.monotonic() < deadline, f'not advertised: {topics} ({self.channels})'
            opcode, data = self.ws.recv_data()
            if opcode == websocket.ABNF.OPCODE_TEXT:
                self._control(json.loads(data))

    def _control(self, msg: dict) -> None:
        if msg['op'] == 'serverInfo':
            self.server_info = msg
        elif msg['op'] == 'advertise':
            for channel in msg['channels']:
                self.channels[channel['topic']] = channel

    def subscribe(self, topics: list[str]) -> None:
        """Subscribe to ``topics`` (subscription ids 1, 2, ...)."""
        subs = []
        for topic in topics:
            channel = self.channels[topic]
            sub_id = len(self._subs) + 1
            self._subs[sub_id] = (topic, _message_class(channel))
            subs.append({'id': sub_id, 'channelId': channel['id']})
        self.ws.send(json.dumps({'op': 'subscribe', 'subscriptions': subs}))

    def receive(self, topics: set[str], timeout: float = 10.0) -> dict[str, object]:
        """The first decoded message of every topic in ``topics``."""
        got: dict[str, object] = {}
        deadline = time.monotonic() + timeout
        while not topics <= set(got):
            assert time.monotonic() < deadline, f'received only {sorted(got)}'
            opcode, data = self.ws.recv_data()
            if opcode == websocket.ABNF.OPCODE_TEXT:
                self._control(json.loads(data))
                continue
            assert data[0] == 0x01, f'unexpected binary opcode {data[0]}'
            sub_id, _log_time = struct.unpack_from('<IQ', data, 1)
            topic, cls = self._subs[sub_id]
            msg = cls()
            msg.ParseFromString(bytes(data[13:]))
            got.setdefault(topic, msg)
        return got

    def close(self) -> None:
        self.ws.close()


def _message_class(channel: dict) -> type:
    assert channel['encoding'] == 'protobuf', channel
    assert channel['schemaEncoding'] == 'protobuf', channel
    fds = descriptor_pb2.FileDescriptorSet.FromString(base64.b64decode(channel['schema']))
    return message_factory.GetMessages(fds.file)[channel['schemaName']]
