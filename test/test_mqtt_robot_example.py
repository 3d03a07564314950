"""examples/mqtt_robot.py (the seed's PhysicalRobotInterface) against a real broker, with the
twin's side answering through MqttTwinAdapter."""

import importlib.util
from pathlib import Path

from mqtt_fixtures import USER, running_broker, settings_for
import numpy as np
import pytest

from twin_bridge.mqtt.twin_adapter import MqttTwinAdapter

EXAMPLE = Path(__file__).resolve().parent.parent / 'examples' / 'mqtt_robot.py'


@pytest.fixture
def broker(tmp_path):
    yield from running_broker(tmp_path)


def _example():
    spec = importlib.util.spec_from_file_location('mqtt_robot', EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_example_robot_reads_its_twins_odometry(broker, capsys):
    example = _example()
    seen = []

    def twin(received):  # the twin's side: mirror the pose back as virtual odometry
        seen.append(received.state.odometry)
        adapter.send_odometry(received.robot, received.state.odometry)

    adapter = MqttTwinAdapter(settings_for(broker), 'twin', ['robot7'], on_received=twin)
    adapter.start()
    try:
        code = example.main(['--port', str(broker.files.port), '--username', USER,
                             '--password-file', str(broker.files.password_file),
                             '--robot', 'robot7', '--seconds', '1.5'])
    finally:
        adapter.stop()
    out = capsys.readouterr().out
    assert code == 0, out
    assert 'twin at x=' in out and 'virtual odometries received' in out
    assert len(seen) > 10
    # the robot drives the documented arc: 0.2 m/s, turning at 0.1 rad/s
    np.testing.assert_allclose(example.arc_odometry(0.0).position, [0.0, 0.0, 0.0])
    assert all(o.linear_velocity[0] == 0.2 for o in seen)


def test_the_example_fails_clearly_without_a_login(broker, capsys):
    code = _example().main(['--port', str(broker.files.port), '--seconds', '0.1'])
    assert code == 1
    assert 'cannot connect' in capsys.readouterr().err
