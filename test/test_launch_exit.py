"""The launch files' exit handling, run for real where ``launch`` is installed (ROS 2 Jazzy).

A process that dies (the twin FATAL at start-up, Gazebo gone) ends the launch with its last
output lines as the shutdown reason; a process ending while launch is already shutting down
does not shut it down a second time; a missing ``gz`` is an error before Gazebo would start.
Skipped (reason shown with ``pytest -rs``) where launch is missing; what these rely on is
covered without launch too: ``OutputTail`` and ``require_executable`` in
test_launch_support.py, the handlers' wiring in test_launch_files.py (statically).
"""

import importlib.util
from pathlib import Path
import sys
import threading
import time

import pytest

from twin_bridge.errors import ConfigError

REPO = Path(__file__).resolve().parent.parent
LAUNCH_FILES = ['embedded_twin.launch.py', 'gazebo_twin.launch.py']
FATAL = ("import sys; print('[FATAL] [twin_bridge]: output_odom_topic resolves to /odom',"
         " file=sys.stderr, flush=True); sys.exit(3)")
SLEEP = 'import time; time.sleep(60)'


@pytest.fixture(scope='module')
def launch():
    """The launch package (not this repo's launch/ folder, which imports as a namespace)."""
    try:
        import launch
        from launch import LaunchService  # noqa: F401
        import launch.actions
        import launch.event_handlers
        import launch_ros  # noqa: F401  (the launch files import it)
    except ImportError:
        pytest.skip('launch / launch_ros not installed (ROS 2 Jazzy only): exit handling '
                    'checked statically in test_launch_files.py')
    return launch


def _module(name: str):
    path = REPO / 'launch' / name
    spec = importlib.util.spec_from_file_location(path.stem.replace('.', '_'), path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _python(launch, name: str, code: str):
    return launch.actions.ExecuteProcess(cmd=[sys.executable, '-c', code], name=name,
                                         output='screen')


def _run(launch, entities: list, stop_after: float | None = None,
         timeout: float = 30.0) -> tuple[list[str], float]:
    """Run ``entities``; return the shutdown reasons seen and the seconds the run took.

    :param stop_after: call ``LaunchService.shutdown()`` (like Ctrl-C) after this many s
    """
    reasons: list[str] = []
    service = launch.LaunchService()
    service.include_launch_description(launch.LaunchDescription([
        launch.actions.RegisterEventHandler(launch.event_handlers.OnShutdown(
            on_shutdown=lambda event, context: reasons.append(event.reason))),
        *entities]))
    timers = [threading.Timer(timeout, service.shutdown)]
    if stop_after is not None:
        timers.append(threading.Timer(stop_after, service.shutdown))
    for timer in timers:
        timer.start()
    start = time.monotonic()
    try:
        service.run()
    finally:
        for timer in timers:
            timer.cancel()
    return reasons, time.monotonic() - start


@pytest.mark.parametrize('name', LAUNCH_FILES)
def test_a_dying_process_ends_the_launch_with_its_message(launch, name):
    helper = _module(name)._end_launch_when_exits
    bystander = _python(launch, 'bystander', SLEEP)  # e.g. robot_state_publisher
    twin = _python(launch, 'twin_bridge', FATAL)
    reasons, took = _run(launch, [bystander, *helper(twin, 'twin_bridge')])
    assert took < 20.0, 'the launch kept running after the twin died'
    assert len(reasons) == 1
    assert reasons[0] == ('twin_bridge exited with code 3: [FATAL] [twin_bridge]: '
                          'output_odom_topic resolves to /odom')


@pytest.mark.parametrize('name', LAUNCH_FILES)
def test_an_exit_during_shutdown_does_not_shut_down_again(launch, name):
    helper = _module(name)._end_launch_when_exits
    twin = _python(launch, 'twin_bridge', SLEEP)
    reasons, took = _run(launch, helper(twin, 'twin_bridge'), stop_after=1.0)
    assert took < 20.0
    assert reasons == ['LaunchService.shutdown() called']


def test_a_missing_gz_is_an_error_naming_what_to_install(launch, monkeypatch, tmp_path):
    module = _module('gazebo_twin.launch.py')
    context = launch.LaunchContext()
    context.launch_configurations.update({
        'world': 'empty', 'robot_description_file': '', 'xacro_args': '', 'headless': 'true',
        'gui': 'false', 'use_sim_time': 'false', 'namespace': '', 'model_name': 'twin_robot',
        'bridge_config': '', 'params_file': '', 'x': '0', 'y': '0', 'z': '0', 'yaw': '0'})
    monkeypatch.setenv('PATH', str(tmp_path))  # no gz there
    with pytest.raises(ConfigError, match=r'gz not found on PATH: .*ros-jazzy-ros-gz'):
        module._gazebo_and_bridges(context)
