"""``twin_demo --mqtt``: broker, MQTT robot, twin_mqtt and the twin, mirrored and cleaned up."""

import json
import re
import subprocess
import sys

import pytest

from twin_bridge.demo.process_group import wait_for_exit

DURATION = 2.0


def test_demo_mqtt_mirrors_the_mqtt_robot_and_stops_the_broker(tmp_path):
    out_dir = tmp_path / 'report'
    proc = subprocess.run([sys.executable, '-m', 'twin_bridge.demo', '--mqtt', '--duration',
                           f'{DURATION:g}', '--output', str(out_dir)],
                          capture_output=True, text=True, timeout=180, start_new_session=True)
    assert proc.returncode == 0, f'stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}'
    assert 'password required' in proc.stdout
    report = json.loads((out_dir / 'report.json').read_text())
    assert report['ok'] is True and report['problems'] == []
    processes = report['processes']
    assert set(processes) == {'mosquitto', 'mqtt_robot', 'twin_mqtt', 'twin_bridge'}
    assert all(p['exit_code'] == 0 for p in processes.values()), processes
    for name in ('joint_states', 'odom'):  # the robot's state, mirrored at its 50 Hz
        stream = report['streams'][name]
        assert stream['messages_in'] > 0.8 * 50 * DURATION and stream['rejections'] == 0
    assert report['tracking']['max_error_m'] < 1e-6  # the twin is where the MQTT robot said
    read_back = re.search(r'read (\d+) virtual odometries over MQTT', proc.stdout)
    assert read_back and int(read_back.group(1)) > 0.8 * 50 * DURATION, proc.stdout
    for p in processes.values():  # the broker and every node are gone
        assert wait_for_exit(p['pid'], 5.0)


@pytest.mark.parametrize('extra', [['--live'], ['--fault', 'pose_offset:dx=0.1'],
                                   ['--odom-topic', 'odom2'], ['--robots', '3']])
def test_demo_mqtt_refuses_options_it_cannot_serve(extra):
    proc = subprocess.run([sys.executable, '-m', 'twin_bridge.demo', '--mqtt', *extra],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert '--mqtt' in proc.stderr
