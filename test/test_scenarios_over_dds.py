"""Safety scenarios through the real twin node over DDS: the controller node's commands in on
cmd_vel, gated commands out on virtual/cmd_vel_safe and (forward_commands) to the stand-in
robot, the same expectations and verdict kinds as the embedded harness."""

import math
from pathlib import Path
import subprocess
import sys

import pytest
import yaml

from twin_bridge.demo.scenario_over_dds import run_over_dds
from twin_bridge.errors import ConfigError
from twin_bridge.ros.scenario_controller_node import PARAMETERS
from twin_bridge.scenarios.runner import run_file

SCENARIOS = Path(__file__).resolve().parent.parent / 'scenarios'


def _kinds(counts):
    return {name for name, n in counts.items() if n}


@pytest.mark.parametrize('name, stop_reason', [('wall_full_speed', 'obstacle'),
                                               ('e_stop_mid_motion', 'e_stop')])
def test_scenario_through_the_node_matches_the_embedded_harness(name, stop_reason, tmp_path):
    path = SCENARIOS / f'{name}.yaml'
    over_dds = run_over_dds(path, log_dir=tmp_path)
    embedded = run_file(path)
    assert embedded.passed
    details = '; '.join(f'{c.name}: {c.detail}' for c in over_dds.checks)
    assert over_dds.passed, details
    assert [c.name for c in over_dds.checks] == [c.name for c in embedded.checks]
    # The same kinds of verdict, and the stops for the same reason.
    assert _kinds(over_dds.trace.verdict_counts) == _kinds(embedded.trace.verdict_counts)
    assert over_dds.trace.reason_counts[stop_reason] >= 1
    assert embedded.trace.reason_counts[stop_reason] >= 1
    # The robot was driven by the gated commands only, and it moved.
    assert over_dds.trace.x.max() - over_dds.trace.x.min() > 0.3


def test_scenarios_the_stand_in_cannot_stage_are_refused():
    with pytest.raises(ConfigError, match='obstacles and faults are not supported'):
        run_over_dds(SCENARIOS / 'obstacle_appears.yaml')
    with pytest.raises(ConfigError, match='stale inputs are not supported'):
        run_over_dds(SCENARIOS / 'stale_scan_while_moving.yaml')


def _controller_node(*args):
    return subprocess.run([sys.executable, '-m', 'twin_bridge.ros.scenario_controller_node',
                           *args], capture_output=True, text=True, timeout=60)


def test_the_parameter_file_sets_exactly_the_node_parameters():
    path = SCENARIOS.parent / 'config' / 'twin_scenario_controller.yaml'
    params = yaml.safe_load(path.read_text())['/**']['ros__parameters']
    assert set(params) == set(PARAMETERS)
    for name, value in params.items():
        default = PARAMETERS[name][0]
        assert value == default or (math.isnan(value) and math.isnan(default)), name


def test_controller_node_help_lists_its_parameters():
    proc = _controller_node('--help')
    assert proc.returncode == 0
    for name in ('scenario', 'controller', 'controller_args', 'goal_x', 'cmd_vel_topic',
                 'e_stop_topic', 'exit_when_done', 'wait_for_subscribers'):
        assert name in proc.stdout


@pytest.mark.parametrize('params, message', [
    (['-p', 'scenario:=/no/such.yaml'], 'such.yaml'),
    (['-p', 'controller:=no_module:f'], 'cannot import'),
    (['-p', 'controller:=twin_bridge.scenarios.controllers:go_to_goal',
      '-p', "controller_args:='{bad'"], 'controller_args: not JSON'),
    ([], 'needs a scenario or a controller'),
])
def test_controller_node_bad_parameters_exit_2_naming_them(params, message):
    proc = _controller_node('--ros-args', *params)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
