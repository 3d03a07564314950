"""Safety scenarios: YAML files run in the embedded twin with dynamics, every command through
the command gate, checked against expectations (``twin_scenarios``, the pytest plugin)."""

from twin_bridge.scenarios.controllers import Observation, go_to_goal, load_controller
from twin_bridge.scenarios.expectations import Check
from twin_bridge.scenarios.loader import load_scenario, scenario_from_dict
from twin_bridge.scenarios.runner import ScenarioResult, run_file, run_scenario
from twin_bridge.scenarios.spec import Scenario

__all__ = ['Check', 'Observation', 'Scenario', 'ScenarioResult', 'go_to_goal',
           'load_controller', 'load_scenario', 'run_file', 'run_scenario',
           'scenario_from_dict']
