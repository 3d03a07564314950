"""The main job end to end: real processes over real DDS, report contents, cleanup."""

import json
import os
from pathlib import Path
import signal
import subprocess
import sys
import threading
import time

from diagnostic_msgs.msg import DiagnosticArray
import pytest
from ros_harness import RosTestContext, spawn_node, wait_until

from twin_bridge.demo.demo import _progress_text, build_parser, choose_domain_id, main
from twin_bridge.demo.process_group import group_members, wait_for_exit
from twin_bridge.twin.latency_stats import LatencyStats

PNG_MAGIC = b'\x89PNG\r\n\x1a\n'
#: Measured seconds of the end-to-end run (its thresholds scale with it).
DURATION = 3.0
#: The bridge's /diagnostics period in the signal tests (default 1 s): their report takes
#: the rejection counts from a /diagnostics message, which the test waits for.
FAST_DIAGNOSTICS = ['--bridge-param', 'diagnostics_period:=0.25']
MEASURING = ' s | joint_states'  # the progress line, shown once measuring started


def _run_demo(args, timeout=150.0):
    """Run twin_demo in its own session until it exits."""
    proc = subprocess.Popen([sys.executable, '-m', 'twin_bridge.demo', *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode, out, err


class _Demo:
    """twin_demo running in its own session; its output collected line by line."""

    def __init__(self, args):
        self.proc = subprocess.Popen([sys.executable, '-m', 'twin_bridge.demo', *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     start_new_session=True)
        self.out, self.err = [], []
        self._readers = [threading.Thread(target=self._collect, args=(stream, lines))
                         for stream, lines in ((self.proc.stdout, self.out),
                                               (self.proc.stderr, self.err))]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _collect(stream, lines):
        for line in stream:
            lines.append(line)

    def wait_for(self, text, timeout=90.0):
        def shown():
            return any(text in line for line in self.out) or self.proc.poll() is not None
        if not (wait_until(shown, timeout) and any(text in line for line in self.out)):
            raise AssertionError(f'no {text!r} in the output:\n{self.output()}')

    def children(self):
        """Live processes whose parent is the demo (from /proc)."""
        found = []
        for entry in os.listdir('/proc'):
            try:
                with open(f'/proc/{entry}/stat', encoding='ascii') as f:
                    fields = f.read().rsplit(')', 1)[1].split()
            except (OSError, IndexError):
                continue
            if fields[0] != 'Z' and int(fields[1]) == self.proc.pid:
                found.append(int(entry))
        return found

    def finish(self, timeout=60.0):
        try:
            self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            for reader in self._readers:
                reader.join(5.0)
        return self.proc.returncode

    def output(self):
        return f'stdout:\n{"".join(self.out)}\nstderr:\n{"".join(self.err)}'


def _wait_for_bridge_diagnostics(ros, diagnostics, also=lambda: None):
    """Spin until a /diagnostics message of the bridge arrives (after this call).

    :param also: called between spins (e.g. to drain a terminal)
    """
    diagnostics.clear()

    def arrived():
        also()
        return any(s.name.startswith('twin_bridge: ') for a in diagnostics.messages
                   for s in a.status)
    assert ros.spin_until(arrived, 10.0), 'no /diagnostics from twin_bridge'


def _assert_no_process_left(report):
    for name, info in report['processes'].items():
        assert wait_for_exit(info['pid'], 5.0), f'{name} (pid {info["pid"]}) still running'
        assert group_members(info['pid']) == [], f'{name}: its process group lives on'


def test_demo_end_to_end(tmp_path):
    out_dir = tmp_path / 'report'
    code, out, err = _run_demo(['--duration', f'{DURATION:g}', '--output', str(out_dir)])
    assert code == 0, f'stdout:\n{out}\nstderr:\n{err}'
    report = json.loads((out_dir / 'report.json').read_text())
    assert report['ok'] is True and report['problems'] == []
    assert report['duration_s'] == pytest.approx(DURATION, abs=0.5)
    expected_rate = {'joint_states': 100.0, 'odom': 50.0, 'scan': 20.0}
    for name, rate in expected_rate.items():
        s = report['streams'][name]
        assert s['messages_out'] > 0.8 * rate * DURATION, name
        assert s['rate_hz'] == pytest.approx(rate, rel=0.15), name
        lat = s['latency_ms']
        assert 0.0 < lat['p50'] < 50.0 and lat['p99'] < 200.0, (name, lat)
        assert lat['p50'] <= lat['p95'] <= lat['p99'] <= lat['max']
    for name in ('joint_states', 'odom'):
        s = report['streams'][name]
        assert s['messages_in'] > 0 and s['rejections'] == 0
        # Nothing lost: every physical message observed was mirrored (allow in-flight ones),
        # and no output is counted for an input sent before the measurement started.
        assert s['messages_in'] - 5 <= s['messages_out'] <= s['messages_in'] + 2, (name, s)
    # The twin's odometry is the physical one, matched stamp by stamp.
    assert report['tracking']['matched'] > 0.8 * expected_rate['odom'] * DURATION
    assert report['tracking']['max_error_m'] < 1e-6
    assert report['config']['world'] == 'warehouse'
    assert all(p['exit_code'] == 0 for p in report['processes'].values())
    assert (out_dir / 'report.png').read_bytes().startswith(PNG_MAGIC)
    # The table on stdout has a row per stream.
    rows = {line.split()[0] for line in out.splitlines() if line.strip()}
    assert {'joint_states', 'odom', 'scan'} <= rows
    _assert_no_process_left(report)


def test_demo_with_a_pose_fault_reports_its_detection(tmp_path):
    """--fault: the progress line, the drift table and report.json name the pose drift,
    detected after the onset with the fault's turn as its estimate."""
    out_dir = tmp_path / 'report'
    # at= counts from physical_sim's start, a few seconds before the measurement starts.
    code, out, err = _run_demo(['--duration', '4', '--output', str(out_dir),
                                '--fault', 'pose_offset:dx=0.05,dyaw_deg=2,at=5'])
    assert code == 0, f'stdout:\n{out}\nstderr:\n{err}'
    report = json.loads((out_dir / 'report.json').read_text())
    drift = report['drift']
    assert 'figure-eight' in drift['physical_start_from']  # the onset is known precisely
    pose = drift['causes']['pose']
    assert pose['expected'] and pose['final_level'] == 'ERROR', drift
    assert pose['first_error_s'] >= pose['onset_s'], drift
    assert 0.0 <= pose['detected_after_onset_s'], drift
    estimate = pose['estimate_at_detection']
    assert estimate['dyaw_deg'] == pytest.approx(-2.0, abs=0.3)  # the correction: -dyaw
    if not pose['detected_at_most']:  # seen at once: the robot is still near the onset pose
        assert pose['detected_after_onset_s'] < 1.5, drift
        assert estimate['dx'] == pytest.approx(-0.05, abs=0.03), estimate
        assert estimate['dy'] == pytest.approx(0.0, abs=0.03), estimate
    for cause in ('world', 'lidar', 'wheels'):
        assert drift['causes'][cause]['first_error_s'] is None, (cause, drift['causes'])
    assert drift['prediction']['count'] > 0 and drift['prediction']['p50_m'] < 0.1
    assert 'drift: pose ERROR' in out  # the progress line
    assert any(line.startswith('pose ') and 'pose_offset' in line for line in out.splitlines())
    assert (out_dir / 'report.png').read_bytes().startswith(PNG_MAGIC)
    _assert_no_process_left(report)


def test_demo_fails_clearly_when_the_twin_cannot_start(tmp_path):
    out_dir = tmp_path / 'report'
    code, out, err = _run_demo(['--duration', '3', '--output', str(out_dir),
                                '--world', str(tmp_path / 'missing_world.sdf'),
                                '--startup-timeout', '60'])
    assert code == 1, f'stdout:\n{out}\nstderr:\n{err}'
    assert 'twin_bridge exited early' in err
    assert 'missing_world.sdf' in err  # the bridge's own error, shown from its output
    # That first clear error is enough: no timeout or "published nothing" on top of it.
    assert 'no messages' not in err and 'published nothing' not in err, err
    report = json.loads((out_dir / 'report.json').read_text())
    assert report['ok'] is False
    assert report['streams']['scan']['messages_out'] == 0
    _assert_no_process_left(report)


@pytest.mark.parametrize('sig, code', [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_demo_stopped_by_a_signal_cleans_up_and_still_reports(tmp_path, sig, code):
    """Ctrl-C, a service stop and a closed terminal: children stopped, report, 128 + signal."""
    out_dir = tmp_path / 'report'
    with RosTestContext('demo_diagnostics_probe') as ros:
        diagnostics = ros.collect('/diagnostics', DiagnosticArray)
        demo = _Demo(['--duration', '60', '--output', str(out_dir), *FAST_DIAGNOSTICS])
        demo.wait_for(MEASURING)
        measuring = time.monotonic()
        _wait_for_bridge_diagnostics(ros, diagnostics)  # the demo's observer has it too
        demo.proc.send_signal(sig)
        signalled_after = time.monotonic() - measuring
        assert demo.finish() == code, demo.output()
    report = json.loads((out_dir / 'report.json').read_text())
    assert report['interrupted'] is True
    assert report['stop_signal'] == signal.Signals(sig).name
    assert signalled_after <= report['duration_s'] < 60  # the time it did measure
    assert report['streams']['joint_states']['rejections'] == 0
    assert f'{signal.Signals(sig).name}: stopping' in ''.join(demo.out)
    _assert_no_process_left(report)


def _pty_read(fd, deadline):
    import select
    if select.select([fd], [], [], max(0.0, deadline - time.monotonic()))[0]:
        try:
            return os.read(fd, 4096)
        except OSError:
            pass
    return b''


def test_closing_the_terminal_stops_the_demo_cleanly(tmp_path):
    """SIGHUP from a real terminal hang-up: the nodes stop, the report is written (the
    terminal is gone, so writing to it fails) and the exit status is 129."""
    import pty
    out_dir = tmp_path / 'report'
    pid, fd = pty.fork()  # the demo leads a session whose controlling terminal is the pty
    if pid == 0:
        os.execv(sys.executable, [sys.executable, '-m', 'twin_bridge.demo',
                                  '--duration', '60', '--output', str(out_dir),
                                  *FAST_DIAGNOSTICS])
    status = None
    try:
        with RosTestContext('demo_diagnostics_probe') as ros:
            diagnostics = ros.collect('/diagnostics', DiagnosticArray)
            seen, deadline = b'', time.monotonic() + 90.0
            while MEASURING.encode() not in seen and time.monotonic() < deadline:
                seen += _pty_read(fd, deadline)
            assert MEASURING.encode() in seen, seen.decode(errors='replace')
            measuring = time.monotonic()
            # the demo's observer has them too; keep reading, or the demo blocks on the pty
            _wait_for_bridge_diagnostics(ros, diagnostics,
                                         also=lambda: _pty_read(fd, time.monotonic()))
        os.close(fd)  # hang up
        fd = None
        hung_up_after = time.monotonic() - measuring

        def exited():
            nonlocal status
            done, code = os.waitpid(pid, os.WNOHANG)
            status = code if done else None
            return status is not None
        assert wait_until(exited, 60.0, step=0.05), 'the demo did not exit after the hang-up'
        assert os.waitstatus_to_exitcode(status) == 129
    finally:
        if fd is not None:
            os.close(fd)
        if status is None:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    report = json.loads((out_dir / 'report.json').read_text())
    assert report['interrupted'] is True and report['stop_signal'] == 'SIGHUP'
    assert hung_up_after <= report['duration_s'] < 60  # the time it did measure
    assert report['streams']['joint_states']['rejections'] == 0
    _assert_no_process_left(report)


def test_demo_interrupted_during_start_up_explains_what_is_unknown(tmp_path):
    out_dir = tmp_path / 'report'
    demo = _Demo(['--duration', '60', '--output', str(out_dir)])
    demo.wait_for('waiting for every stream')
    demo.proc.send_signal(signal.SIGINT)
    assert demo.finish() == 130, demo.output()
    report = json.loads((out_dir / 'report.json').read_text())
    assert report['interrupted'] is True and report['duration_s'] == 0.0
    out, err = ''.join(demo.out), ''.join(demo.err)
    assert 'published nothing' not in err, err  # the stop explains the silence
    for name in ('joint_states', 'odom'):
        # Known from the bridge's shutdown summary, else the '-' is explained.
        if report['streams'][name]['rejections'] is None:
            notes = [line for line in out.splitlines() if line.startswith('- rejected for')]
            assert notes and name in notes[0] and 'unknown' in notes[0], out
    assert 'in/rejected for scan: no physical input' in out
    _assert_no_process_left(report)


@pytest.mark.skipif(not sys.platform.startswith('linux'), reason='PR_SET_PDEATHSIG is Linux')
def test_killing_the_demo_leaves_no_node_running(tmp_path):
    """SIGKILL runs no clean-up code: the kernel must stop the nodes (parent-death signal)."""
    demo = _Demo(['--duration', '60', '--output', str(tmp_path / 'report')])
    demo.wait_for(MEASURING)
    children = demo.children()
    try:
        assert len(children) == 2, (children, demo.output())  # physical_sim and twin_bridge
        demo.proc.kill()
        demo.finish()
        for pid in children:
            assert wait_for_exit(pid, 10.0), f'node {pid} outlived the killed demo'
            assert group_members(pid) == []
    finally:  # a failure must not leave the orphans running
        for pid in children:
            if group_members(pid):
                os.killpg(pid, signal.SIGKILL)


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
    assert '(default: None)' not in text
    flat = ' '.join(text.split())
    for status in ('130 (SIGINT', '143 (SIGTERM)', '129 (SIGHUP'):
        assert status in flat


class _FakeObserver:
    def __init__(self, counts):
        self._stats = {}
        for label, n in counts.items():
            stats = LatencyStats(capacity=100, window_s=None)
            for i in range(n):
                stats.add(0.002, 100.0 + i * 0.01)
            self._stats[label] = stats

    def count(self, label):
        return self._stats[label].count

    def stats(self, label):
        return self._stats[label]


def test_progress_shows_a_rate_only_once_it_means_something():
    node = _FakeObserver({'virtual/joint_states': 1, 'virtual/odom': 0, 'virtual/scan': 0})
    text = _progress_text(node, 0.00011, 10.0)  # one message after 0.1 ms
    assert 'joint_states 1 (- Hz, p50 2.00 ms)' in text and 'odom 0 (- Hz, p50 -)' in text
    node = _FakeObserver({'virtual/joint_states': 100, 'virtual/odom': 50, 'virtual/scan': 2})
    assert '(- Hz' in _progress_text(node, 0.4, 10.0)  # too short a span
    text = _progress_text(node, 1.0, 10.0)
    assert 'joint_states 100 (100 Hz' in text and 'odom 50 (50 Hz' in text
    assert 'scan 2 (2 Hz' in text and 'drift' not in text  # no drift check: nothing shown
    node.diagnostics = {'twin drift: pose': {'level': 2, 'values': {'dx': '0.05'}}}
    assert _progress_text(node, 1.0, 10.0).endswith(' | drift: pose ERROR dx=0.05')


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
        code, out, err = _run_demo(['--live', '--duration', '1', '--output', str(out_dir),
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


def test_stop_signal_handler_only_records_and_loops_raise():
    """A handler that raises inside rclpy's C++ take comes out as a pybind11 RuntimeError, so
    the handler only records the signal; the demo's loops raise it via check()."""
    from twin_bridge.demo.demo import _Stopped, _StopSignals
    with _StopSignals() as stop:
        os.kill(os.getpid(), signal.SIGTERM)  # handled synchronously in the main thread
        assert stop.signum == signal.SIGTERM and stop.requested
        with pytest.raises(_Stopped) as raised:
            stop.check()
        assert raised.value.signum == signal.SIGTERM
        os.kill(os.getpid(), signal.SIGINT)   # later signals: only the first one counts
        assert stop.signum == signal.SIGTERM
        stop.quiet()
        stop.check()  # quiet: no raise while cleaning up
    assert signal.getsignal(signal.SIGTERM) != stop._handle  # handlers restored
