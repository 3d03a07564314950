"""The MQTT link against a real mosquitto: authentication, TLS, rejections counted, and a
broker restart survived (the stream stale meanwhile, then recovered)."""

import json
import subprocess
import sys
import time

from mqtt_fixtures import USER, make_certificate, running_broker, settings_for
import numpy as np
import paho.mqtt.client as mqtt
import pytest
from ros_harness import wait_until

from twin_bridge.core.state import JointStateSample, OdometrySample
from twin_bridge.errors import ConfigError
from twin_bridge.mqtt.broker_settings import BrokerSettings
from twin_bridge.mqtt.connection import MqttConnection
from twin_bridge.mqtt.local_broker import LocalBroker, free_port, write_broker_files
from twin_bridge.mqtt.physical_robot_interface import PhysicalRobotInterface
from twin_bridge.mqtt.twin_adapter import MqttTwinAdapter
from twin_bridge.twin.stream_monitor import Level

TIMEOUT = 10.0


@pytest.fixture
def broker(tmp_path):
    yield from running_broker(tmp_path)


def _odometry(x: float = 1.0) -> OdometrySample:
    return OdometrySample(np.array([x, 2.0, 0.0]), np.array([0.0, 0.0, 0.0, 1.0]))


def _connection(settings: BrokerSettings, name: str) -> MqttConnection:
    connection = MqttConnection(settings, name)
    connection.start()
    return connection


def test_the_user_connects_anonymous_and_wrong_password_are_refused(broker):
    good = _connection(settings_for(broker), 'good')
    anonymous = _connection(settings_for(broker, username='', password_file=''), 'anonymous')
    wrong = _connection(settings_for(broker, password_file='', password='wrong'), 'wrong')
    try:
        assert good.wait_connected(TIMEOUT)
        began = time.monotonic()
        assert not wrong.wait_connected(TIMEOUT)  # a refusal ends the wait at once
        assert time.monotonic() - began < TIMEOUT / 2
        assert wait_until(lambda: anonymous.refusals >= 1 and wrong.refusals >= 1, TIMEOUT)
        assert not anonymous.connected and not wrong.connected
        assert 'Not authorized' in wrong.last_error and 'Not authorized' in anonymous.last_error
        # refused clients keep trying, with growing waits (0.1, 0.2, 0.4 s ...): a few, not
        # hundreds, per second
        refusals = wrong.refusals
        time.sleep(0.5)
        assert wrong.refusals - refusals <= 4
    finally:
        for connection in (good, anonymous, wrong):
            connection.stop()


def test_a_robot_and_the_adapter_exchange_state_and_virtual_state(broker):
    received = []
    adapter = MqttTwinAdapter(settings_for(broker), 'twin', ['r1', 'r2'],
                              on_received=received.append)
    adapter.start()
    try:
        with PhysicalRobotInterface('r1', settings_for(broker)) as robot:
            assert robot.connect(TIMEOUT) and adapter.connection.wait_connected(TIMEOUT)
            joints = JointStateSample(('a',), np.array([0.5]), np.array([1.0]))
            assert wait_until(lambda: robot.publish_state(joints, _odometry(), 123) and
                              received, TIMEOUT, step=0.1)
            first = received[0]
            assert (first.robot, first.stream, first.state.stamp_ns) == ('r1', 'state', 123)
            np.testing.assert_array_equal(first.state.odometry.position, [1.0, 2.0, 0.0])
            assert adapter.send_odometry('r1', first.state.odometry)
            assert wait_until(lambda: robot.virtual('odom') is not None, TIMEOUT)
            assert robot.virtual('odom').stamp_ns == 123
        # The latest virtual state is retained: a robot connecting later has it at once.
        with PhysicalRobotInterface('r1', settings_for(broker), client_id='late') as late:
            assert late.connect(TIMEOUT)
            assert wait_until(lambda: late.virtual('odom') is not None, TIMEOUT)
    finally:
        adapter.stop()


def _raw_client(server: LocalBroker) -> mqtt.Client:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id='raw')
    client.username_pw_set(USER, server.files.password)
    client.connect('127.0.0.1', server.files.port)
    client.loop_start()
    return client


def test_bad_messages_are_counted_per_reason_and_good_ones_still_flow(broker):
    received = []
    adapter = MqttTwinAdapter(settings_for(broker), 'twin', ['r1'], on_received=received.append)
    adapter.start()
    client = _raw_client(broker)
    try:
        assert adapter.connection.wait_connected(TIMEOUT)
        good = {'schema': 1, 'stamp': {'sec': 1, 'nanosec': 0},
                'pose': {'position': [0, 0, 0], 'orientation': [0, 0, 0, 1]}}
        bad = [b'{not json', json.dumps({**good, 'schema': 9}),
               json.dumps({**good, 'pose': {'position': [float('nan'), 0, 0],
                                            'orientation': [0, 0, 0, 1]}}),
               json.dumps({'schema': 1, 'stamp': {'sec': 1, 'nanosec': 0}}),
               b'{"schema": 1, "x": "' + b'y' * 300_000 + b'"}']
        for payload in [*bad, json.dumps(good)]:
            client.publish('twin/r1/state', payload, qos=1).wait_for_publish(TIMEOUT)
        assert wait_until(lambda: len(received) == 6, TIMEOUT)
        state = next(s for s in adapter.statuses(time.monotonic())
                     if s.name == 'mqtt r1: state')
        assert {k: v for k, v in state.counts.items() if k.startswith('rejected.')} == {
            'rejected.malformed_json': 1, 'rejected.schema_version': 1,
            'rejected.non_finite': 1, 'rejected.missing_field': 1, 'rejected.oversized': 1}
        assert state.counts['accepted'] == 1 and state.counts['received'] == 6
        assert received[-1].state is not None and received[-1].rejected is None
    finally:
        client.loop_stop()
        client.disconnect()
        adapter.stop()


def test_the_adapter_says_online_and_offline_on_its_status_topic(broker):
    statuses = []
    client = _raw_client(broker)
    client.on_message = lambda c, u, msg: statuses.append(msg.payload)
    client.subscribe('twin/twin_bridge/status', qos=1)
    adapter = MqttTwinAdapter(settings_for(broker), 'twin', ['r1'], on_received=print)
    try:
        adapter.start()
        assert wait_until(lambda: b'online' in statuses, TIMEOUT)
        adapter.stop()
        assert wait_until(lambda: statuses[-1:] == [b'offline'], TIMEOUT)
    finally:
        client.loop_stop()
        client.disconnect()
        adapter.stop()


def test_a_broker_restart_is_survived_stale_meanwhile_then_recovered(broker):
    received = []
    adapter = MqttTwinAdapter(settings_for(broker), 'twin', ['r1'], on_received=received.append,
                              stale_timeout=5.0)
    adapter.start()
    robot = PhysicalRobotInterface('r1', settings_for(broker))
    try:
        assert robot.connect(TIMEOUT) and adapter.connection.wait_connected(TIMEOUT)
        assert wait_until(lambda: robot.publish_state(odometry=_odometry()) and received,
                          TIMEOUT, step=0.05)
        assert not adapter.stale('r1')

        broker.kill()  # an outage: no goodbye to the clients
        assert wait_until(lambda: adapter.stale('r1') and not adapter.connection.connected,
                          TIMEOUT)
        statuses = {s.name: s for s in adapter.statuses(time.monotonic())}
        assert statuses['mqtt broker'].level == Level.ERROR
        assert statuses['mqtt r1: state'].stale
        assert 'broker unreachable' in statuses['mqtt r1: state'].message
        assert not robot.publish_state(odometry=_odometry())  # QoS 0 while away: not sent

        broker.start()  # same port, same users
        assert adapter.connection.wait_connected(TIMEOUT) and robot.connection.wait_connected(
            TIMEOUT)
        count = len(received)
        assert wait_until(lambda: robot.publish_state(odometry=_odometry(3.0)) and
                          len(received) > count, TIMEOUT, step=0.05)
        assert not adapter.stale('r1')
        assert any(r.recovered for r in received[count:])
        assert adapter.connection.disconnects == 1 and adapter.connection.connects == 2
        statuses = {s.name: s for s in adapter.statuses(time.monotonic())}
        assert statuses['mqtt broker'].level == Level.OK
        assert statuses['mqtt r1: state'].counts['stale_events'] == 1
    finally:
        robot.close()
        adapter.stop()


def test_tls_with_a_throwaway_certificate(tmp_path):
    cert, key = make_certificate(tmp_path)
    files = write_broker_files(tmp_path / 'tls', free_port(), USER, 'pw', tls=(cert, key))
    with LocalBroker(files) as server:
        base = {'port': files.port, 'username': USER, 'password': 'pw',
                'reconnect_max_delay': 0.5}
        trusted = _connection(BrokerSettings(tls_ca_file=str(cert), **base), 'trusted')
        plain = _connection(BrokerSettings(**base), 'plain')
        untrusted = _connection(BrokerSettings(tls=True, **base), 'untrusted')  # system CAs
        try:
            assert trusted.wait_connected(TIMEOUT)
            assert trusted.settings.describe().startswith('mqtts://')
            time.sleep(1.0)  # give the others every chance to connect
            assert not plain.connected and not untrusted.connected
        finally:
            for connection in (trusted, plain, untrusted):
                connection.stop()
        assert server.process.poll() is None


@pytest.mark.parametrize(('values', 'match'), [
    ({'port': 0}, 'port'),
    ({'password': 'x'}, 'without a username'),
    ({'username': 'u', 'password_file': '/nonexistent/pw'}, 'password_file'),
    ({'tls_cert_file': '/etc/hostname'}, 'tls_key_file'),
    ({'reconnect_min_delay': 2.0, 'reconnect_max_delay': 1.0}, 'reconnect'),
])
def test_bad_broker_settings_name_the_setting(values, match):
    with pytest.raises(ConfigError, match=match):
        BrokerSettings(**values)


def test_the_stand_in_robot_publishes_and_exits_with_the_brokers_reason_when_refused(broker,
                                                                                     tmp_path):
    received = []
    adapter = MqttTwinAdapter(settings_for(broker), 'twin', ['robot1'],
                              on_received=received.append)
    adapter.start()
    login = ['--port', str(broker.files.port), '--username', USER]
    try:
        good = subprocess.run(
            [sys.executable, '-m', 'twin_bridge.mqtt.stand_in_robot', *login,
             '--password-file', str(broker.files.password_file), '--duration', '0.5'],
            capture_output=True, text=True, timeout=60)
        assert good.returncode == 0, good.stderr
        assert len(received) > 10 and all(r.rejected is None for r in received)
        assert received[-1].state.joints.names == ('left_wheel_joint', 'right_wheel_joint',
                                                   'pan_joint', 'tilt_joint')
    finally:
        adapter.stop()
    wrong = tmp_path / 'wrong'
    wrong.write_text('not the password\n')
    refused = subprocess.run(
        [sys.executable, '-m', 'twin_bridge.mqtt.stand_in_robot', *login,
         '--password-file', str(wrong)], capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and 'Not authorized' in refused.stderr
