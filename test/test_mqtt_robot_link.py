"""RobotLink without a broker: decoding, counting, stale on silence or a lost broker, recovery."""

import json

from twin_bridge.mqtt.robot_link import RobotLink
from twin_bridge.mqtt.topics import robot_topics
from twin_bridge.twin.stream_monitor import Level

STATE = json.dumps({'schema': 1, 'stamp': {'sec': 100, 'nanosec': 0},
                    'pose': {'position': [1, 2, 0], 'orientation': [0, 0, 0, 1]}}).encode()
WALL_NS = 100_004_000_000  # 4 ms after the stamp


def _link(timeout: float = 0.5) -> RobotLink:
    return RobotLink('r1', robot_topics('twin', 'r1'), stale_timeout=timeout, start_time=0.0)


def test_good_and_bad_messages_are_counted_with_the_age():
    link = _link()
    good = link.receive('state', STATE, 1.0, WALL_NS)
    assert good.rejected is None and good.state.odometry.position[0] == 1.0
    bad = link.receive('state', b'{"schema": 3}', 1.1, WALL_NS)
    assert bad.state is None and bad.rejected.reason == 'schema_version'
    status = link.statuses(1.2)[0]
    assert status.counts['received'] == 2 and status.counts['accepted'] == 1
    assert status.counts['rejected.schema_version'] == 1
    assert abs(status.summary.p50 - 0.004) < 1e-9
    assert link.receive('scan', b'{}', 1.2, WALL_NS).rejected.reason == 'missing_field'


def test_silence_makes_the_stream_stale_and_a_good_message_recovers_it():
    link = _link(timeout=0.5)
    link.receive('state', STATE, 1.0, WALL_NS)
    assert not link.stale(1.4)
    assert link.poll(1.6) == ['state'] and link.stale(1.6)
    assert link.poll(1.7) == []  # reported once
    assert link.receive('state', STATE, 2.0, WALL_NS).recovered
    assert not link.stale(2.0)


def test_a_lost_broker_makes_it_stale_at_once_until_a_message_comes():
    link = _link(timeout=10.0)
    link.receive('state', STATE, 1.0, WALL_NS)
    link.broker_lost()
    assert link.stale(1.01)
    state, scan = link.statuses(1.01)
    assert state.level == Level.WARN and state.stale and 'broker unreachable' in state.message
    assert state.counts['stale_events'] == 1
    assert scan.level == Level.OK  # no scan ever came: nothing to go stale
    recovered = link.receive('state', STATE, 2.0, WALL_NS)
    assert recovered.recovered and not link.stale(2.0)
    assert link.statuses(2.0)[0].level == Level.OK
