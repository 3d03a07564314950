"""Tests for child-process management: escalation, group cleanup, output capture, /proc usage."""

import os
import signal
import sys
import time

import pytest

from twin_bridge.demo.process_group import (
    ProcessGroup,
    cpu_and_rss,
    format_param,
    group_members,
    ros_argv,
    wait_for_exit,
)

# A child that prints, ignores SIGINT and SIGTERM, and starts a grandchild in its group.
STUBBORN = (
    'import signal, subprocess, sys, time\n'
    'signal.signal(signal.SIGINT, signal.SIG_IGN)\n'
    'signal.signal(signal.SIGTERM, signal.SIG_IGN)\n'
    'sub = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])\n'
    'print("grandchild", sub.pid, flush=True)\n'
    'time.sleep(60)\n'
)
POLITE = 'import time\nprint("hello", flush=True)\ntime.sleep(60)\n'


def _grandchild_pid(proc) -> int:
    assert wait_for_output(proc, 'grandchild')
    return int(proc.output().split()[1])


def wait_for_output(proc, text: str, timeout: float = 10.0) -> bool:
    """Poll the output of ``proc`` until it shows ``text`` (True) or ``timeout`` s pass."""
    deadline = time.monotonic() + timeout
    while text not in proc.output():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def parent_pid(pid: int) -> int:
    """The parent of a live process, from /proc."""
    with open(f'/proc/{pid}/stat', encoding='ascii') as f:
        return int(f.read().rsplit(')', 1)[1].split()[1])


def test_polite_child_stops_on_sigint_and_output_is_kept(tmp_path):
    with ProcessGroup(tmp_path) as group:
        proc = group.spawn('polite', [sys.executable, '-c', POLITE])
        assert wait_for_output(proc, 'hello')
        assert proc.running()
        code = group.stop('polite', timeout=5.0)
    assert code == -signal.SIGINT or code == 1  # KeyboardInterrupt traceback exits 1
    assert proc.tail(1) != '' and (tmp_path / 'polite.log').exists()
    assert group.exit_codes == {'polite': code}


def test_stubborn_group_is_killed_including_grandchildren(tmp_path):
    with ProcessGroup(tmp_path) as group:
        proc = group.spawn('stubborn', [sys.executable, '-c', STUBBORN])
        grandchild = _grandchild_pid(proc)  # printed after both signals are ignored
        assert set(group_members(proc.pid)) == {proc.pid, grandchild}
        code = proc.stop(timeout=0.4)  # SIGINT, SIGTERM (0.2 s each, ignored), SIGKILL
    assert code == -signal.SIGKILL
    assert wait_for_exit(proc.pid, 5.0)
    assert wait_for_exit(grandchild, 5.0)
    assert group_members(proc.pid) == []


def test_leaving_the_block_with_an_error_stops_everything(tmp_path):
    with pytest.raises(RuntimeError), ProcessGroup(tmp_path) as group:
        a = group.spawn('a', [sys.executable, '-c', POLITE])
        b = group.spawn('b', [sys.executable, '-c', POLITE])
        raise RuntimeError('boom')
    assert not a.running() and not b.running()
    assert set(group.exit_codes) == {'a', 'b'}


def test_dead_children_are_reported(tmp_path):
    with ProcessGroup(tmp_path) as group:
        proc = group.spawn('crash', [sys.executable, '-c',
                                     'import sys; print("bad world"); sys.exit(3)'])
        assert wait_for_exit(proc.pid, 10.0)
        proc.popen.wait()
        assert group.dead() == [proc]
        assert proc.returncode == 3 and 'bad world' in proc.tail()
        with pytest.raises(ValueError, match='already'):
            group.spawn('crash', [sys.executable, '-c', 'pass'])


def test_ros_command_lines():
    argv = ros_argv('twin_bridge.ros.relay_node', {'rate': 2.0, 'name': "it's", 'on': True,
                                                   'list': ['a', 1]})
    assert argv[:4] == [sys.executable, '-u', '-m', 'twin_bridge.ros.relay_node']
    assert argv[4] == '--ros-args'
    assert argv[5:] == ['-p', 'rate:=2.0', '-p', "name:='it''s'", '-p', 'on:=true',
                        '-p', "list:=['a', 1]"]
    assert ros_argv('m') == [sys.executable, '-u', '-m', 'm']
    assert format_param(3) == '3'


def test_cpu_and_rss_of_this_process():
    cpu, rss = cpu_and_rss(os.getpid())
    assert cpu > 0.0
    assert 10 * 2**20 < rss < 4 * 2**30


# A parent that starts POLITE through a ProcessGroup, prints the child's pid, then waits.
PARENT = (
    'import sys, time\n'
    'from twin_bridge.demo.process_group import ProcessGroup\n'
    'group = ProcessGroup(sys.argv[1], die_with_parent=sys.argv[2] == "1")\n'
    'child = group.spawn("polite", [sys.executable, "-c", "import time; time.sleep(60)"])\n'
    'print("child", child.pid, flush=True)\n'
    'time.sleep(60)\n'
)


@pytest.mark.skipif(not sys.platform.startswith('linux'), reason='PR_SET_PDEATHSIG is Linux')
@pytest.mark.parametrize('die_with_parent', [True, False])
def test_children_die_with_a_killed_parent(tmp_path, die_with_parent):
    import subprocess
    parent = subprocess.Popen([sys.executable, '-c', PARENT, str(tmp_path),
                               '1' if die_with_parent else '0'],
                              stdout=subprocess.PIPE, text=True, start_new_session=True)
    child = None
    try:
        line = parent.stdout.readline()
        assert line.startswith('child '), line
        child = int(line.split()[1])
        assert group_members(child) == [child]
        parent.kill()  # SIGKILL: no cleanup code of the parent runs
        parent.wait(5.0)
        if die_with_parent:
            assert wait_for_exit(child, 5.0), 'the child outlived its SIGKILLed parent'
            assert group_members(child) == []
        else:  # the control: without the request the child is orphaned, and lives on.
            # Reparenting happens where the parent-death signal would have been sent.
            assert parent_pid(child) != parent.pid
            assert not wait_for_exit(child, 0.2)
    finally:
        if parent.poll() is None:
            parent.kill()
        parent.stdout.close()
        if child is not None and group_members(child):
            os.killpg(child, signal.SIGKILL)
            wait_for_exit(child, 5.0)
