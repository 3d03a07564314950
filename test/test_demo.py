"""The main job end to end: real processes over real DDS, report contents, cleanup."""

import json
import os
from pathlib import Path
import signal
import subprocess
import sys
import time

import pytest
from ros_harness import spawn_node

from twin_bridge.demo import build_parser, choose_domain_id, main
from twin_bridge.process_group import group_members, wait_for_exit

PNG_MAGIC = b'\x89PNG\r\n\x1a\n'


def _run_demo(args, timeout=150.0, interrupt_after=None):
    """Run twin_demo in its own session; optionally SIGINT it after some seconds."""
    proc = subprocess.Popen([sys.executable, '-m', 'twin_bridge.demo', *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        if interrupt_after is not None:
            time.sleep(interrupt_after)
            proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode, out, err


def _assert_no_process_left(report):
    for name, info in report['processes'].items():
        assert wait_for_exit(info['pid'], 5.0), f'{name} (pid {info["pid"]}) still running'
        assert group_members(info['pid']) == [], f'{name}: its process group lives on'


def test_demo_end_to_end(tmp_path):
    out_dir = tmp_path / 'report'
    code, out, err = _run_demo(['--duration', '6', '--output', str(out_dir)])
    assert code == 0, f'stdout:\n{out}\nstderr:\n{err}'
    report = json.loads((out_dir / 'report.json').read_text())
    assert report['ok'] is True and report['problems'] == []
    assert report['duration_s'] == pytest.approx(6.0, abs=0.5)
    expected_rate = {'joint_states': 100.0, 'odom': 50.0, 'scan': 20.0}
    for name, rate in expected_rate.items():
        s = report['streams'][name]
        assert s['messages_out'] > 0.8 * rate * 6, name
        assert s['rate_hz'] == pytest.approx(rate, rel=0.15), name
        lat = s['latency_ms']
        assert 0.0 < lat['p50'] < 50.0 and lat['p99'] < 200.0, (name, lat)
        assert lat['p50'] <= lat['p95'] <= lat['p99'] <= lat['max']
    for name in ('joint_states', 'odom'):
        s = report['streams'][name]
        assert s['messages_in'] > 0 and s['rejections'] == 0
        # Nothing lost: every physical message observed was mirrored (allow in-flight ones).
        assert s['messages_out'] >= s['messages_in'] - 5
    # The twin's odometry is the physical one, matched stamp by stamp.
    assert report['tracking']['matched'] > 200
    assert report['tracking']['max_error_m'] < 1e-6
    assert report['config']['world'] == 'warehouse'
    assert all(p['exit_code'] == 0 for p in report['processes'].values())
    assert (out_dir / 'report.png').read_bytes().startswith(PNG_MAGIC)
    # The table on stdout has a row per stream.
    rows = {line.split()[0] for line in out.splitlines() if line.strip()}
    assert {'joint_states', 'odom', 'scan'} <= rows
    _assert_no_process_left(report)


def test_demo_fails_clearly_when_the_twin_cannot_start(tmp_path):
    out_dir = tmp_path / 'report'
    code, out, err = _run_demo(['--duration', '3', '--output', str(out_dir),
                                '--world', str(tmp_path / 'missing_world.sdf'),
                                '--startup-timeout', '60'])
    assert code == 1, f'stdout:\n{out}\nstderr:\n{err}'
    assert 'twin_bridge exited early' in err
    assert 'missing_world.sdf' in err  # the bridge's own error, shown from its output
    report = json.loads((out_dir / 'report.json').read_text())
    assert report['ok'] is False
    assert report['streams']['scan']['messages_out'] == 0
    _assert_no_process_left(report)


def test_demo_interrupted_cleans_up_and_still_reports(tmp_path):
    out_dir = tmp_path / 'report'
    code, out, err = _run_demo(['--duration', '60', '--output', str(out_dir)],
                               interrupt_after=12.0)
    assert code == 130, f'stdout:\n{out}\nstderr:\n{err}'
    report = json.loads((out_dir / 'report.json').read_text())
    assert report['interrupted'] is True
    assert report['duration_s'] < 60
    _assert_no_process_left(report)


def test_domain_id_choice():
    assert choose_domain_id(7, {'ROS_DOMAIN_ID': '3'}, False, 1234) == '7'
    assert choose_domain_id(None, {'ROS_DOMAIN_ID': '3'}, False, 1234) is None
    assert choose_domain_id(None, {}, True, 1234) is None  # live: the robot's domain
    ids = {choose_domain_id(None, {}, False, pid) for pid in range(1000, 1100)}
    assert len(ids) == 100 and all(1 <= int(i) <= 100 for i in ids)
    with pytest.raises(ValueError, match='domain-id'):
        choose_domain_id(300, {}, False, 1)


def test_help_explains_every_option(capsys):
    with pytest.raises(SystemExit) as exc:
        main(['--help'])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for action in build_parser()._actions:
        for flag in action.option_strings:
            assert flag in text
        assert action.help, f'{action.option_strings} has no help'
    for option in ('--duration', '--world', '--rate', '--odom-rate', '--output', '--live',
                   '--domain-id', '--seed'):
        assert option in text


@pytest.mark.parametrize('args, message', [
    (['--rate', '5000'], '--rate must be within'),
    (['--duration', '0'], '--duration must be > 0'),
    (['--bridge-param', 'oops'], 'NAME:=VALUE'),
])
def test_bad_options_are_rejected(args, message, capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        main([*args, '--output', str(tmp_path / 'unused')])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err
    assert not Path(tmp_path / 'unused').exists()


def test_live_mode_runs_only_the_bridge_against_robot_topics(tmp_path):
    """--live: a 'real' robot (physical_sim on custom topics, started separately) + the twin."""
    robot = spawn_node('twin_bridge.ros.physical_sim_node',
                       params={'joint_states_topic': 'robot/joint_states',
                               'odom_topic': 'robot/odom'})
    try:
        out_dir = tmp_path / 'live'
        code, out, err = _run_demo(['--live', '--duration', '3', '--output', str(out_dir),
                                    '--joint-states-topic', 'robot/joint_states',
                                    '--odom-topic', 'robot/odom'])
        assert code == 0, f'stdout:\n{out}\nstderr:\n{err}'
        report = json.loads((out_dir / 'report.json').read_text())
        assert set(report['processes']) == {'twin_bridge'}
        assert report['config']['ros_domain_id'] == os.environ['ROS_DOMAIN_ID']
        for name in ('joint_states', 'odom'):
            assert report['streams'][name]['messages_in'] > 0
            assert report['streams'][name]['messages_out'] > 0
        assert robot.running()  # the robot is not the demo's to stop
        _assert_no_process_left(report)
    finally:
        assert robot.stop() == 0
