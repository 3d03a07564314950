"""Hardware-in-the-loop end to end over real DDS: the stand-in robot follows the controller's
cmd_vel in its own process, the twin's dynamics replay the recorded commands, the verdict."""

import json
import sys

import pytest

from twin_bridge.demo.hil_cli import main as hil_main
from twin_bridge.demo.hil_tester import HardwareInLoopTester
from twin_bridge.scenarios.controllers import go_to_goal


def _tester(tmp_path, **kwargs):
    return HardwareInLoopTester('warehouse', goal=(1.5, 0.0), duration=4.5, scan_topic='',
                                output=tmp_path, startup_timeout=60.0, **kwargs)


def test_matched_robot_is_validated_with_a_report(tmp_path):
    tester = _tester(tmp_path)
    try:
        result = tester.test_control_algorithm(go_to_goal(speed=0.5))
    finally:
        tester.close()
    c = result.comparison
    assert result.verdict == 'validated', c.summary()
    assert c.position_rmse < 0.1 and c.final_position_error < 0.2
    # The robot really drove: both reached the goal, at about the same time.
    assert result.physical.x.max() > 1.2
    assert abs(c.time_to_goal_difference) < 0.3
    assert len(result.commands.t) >= 30 and result.recording.bad_commands == 0
    json_path, png_path = result.report
    data = json.loads(json_path.read_text())
    assert data['verdict'] == 'validated' and data['exceeded'] == {}
    for key in ('position_rmse_m', 'max_deviation_m', 'final_position_error_m',
                'time_to_goal_physical_s', 'time_to_goal_twin_s'):
        assert data[key] is not None
    assert data['physical'] == 'physical_sim (motion cmd_vel)'
    assert len(data['aligned']['t']) == len(data['aligned']['physical']) > 100
    assert png_path.stat().st_size > 10_000


def test_slipping_robot_is_a_mismatch_by_how_much(tmp_path):
    # The physical wheels slip (the base moves 1/1.3 as far as they turn); the twin does not.
    tester = _tester(tmp_path, stand_in={'faults': ['wheel_slip:factor=1.3']})
    try:
        result = tester.test_control_algorithm('twin_bridge.scenarios.controllers:go_to_goal',
                                               {'speed': 0.5})
    finally:
        tester.close()
    c = result.comparison
    assert result.verdict == 'mismatch'
    value, limit = c.exceeded['position_rmse']
    assert value > 1.5 * limit
    assert 'mismatch: position_rmse' in c.summary()
    # The slipping robot needs longer to the goal than the twin predicts.
    assert c.time_to_goal_difference < -0.3
    assert json.loads(result.report[0].read_text())['stand_in'] == {
        'faults': ['wheel_slip:factor=1.3']}


def test_cli_live_drives_nothing_of_its_own(tmp_path, capsys):
    # --live starts no stand-in: with no robot on the topics it gives up and sends nothing.
    code = hil_main(['--live', '--goal', '1,0', '--odom-topic', 'no_robot_odom',
                     '--cmd-vel-topic', 'no_robot_cmd_vel', '--startup-timeout', '1.5',
                     '-o', str(tmp_path)])
    assert code == 2
    assert 'no odometry on no_robot_odom' in capsys.readouterr().err
    assert not (tmp_path / 'report.json').exists()


@pytest.mark.parametrize('argv, message', [
    (['--goal', '1'], '--goal: expected X,Y'),
    (['--start', '1,2'], '--start: expected X,Y,YAW'),
    (['--controller-arg', 'speed'], 'expected KEY=VALUE'),
    (['--controller', 'no_such_module:f', '--startup-timeout', '1'], 'cannot import'),
    (['--threshold', '0'], 'position_rmse'),
])
def test_cli_bad_arguments_exit_2_with_the_reason(argv, message, capsys, tmp_path):
    assert hil_main([*argv, '-o', str(tmp_path)]) == 2
    assert message in capsys.readouterr().err


def test_controller_as_a_ros_node_is_recorded_and_validated(tmp_path):
    # The controller is a node of its own (twin_scenario_controller around go_to_goal): its
    # cmd_vel drives the stand-in; the commands are recorded as they arrive.
    node = [sys.executable, '-m', 'twin_bridge.ros.scenario_controller_node', '--ros-args',
            '-p', 'controller:=twin_bridge.scenarios.controllers:go_to_goal',
            '-p', 'controller_args:=\'{"speed": 0.5}\'', '-p', 'goal_x:=1.5', '-p', 'goal_y:=0.0',
            '-p', "scan_topic:=''", '-p', 'wait_for_subscribers:=2']  # robot + recorder
    tester = _tester(tmp_path)
    try:
        result = tester.test_control_algorithm(node)
    finally:
        tester.close()
    assert result.meta['controller'] == 'node'
    assert len(result.commands.t) >= 20
    # every command recorded from the first: at rest, facing the goal, it drives at 0.5 m/s
    assert float(result.commands.v[0]) == pytest.approx(0.5, abs=0.01)
    assert result.physical.x.max() > 1.2
    assert result.verdict == 'validated', result.comparison.summary()
