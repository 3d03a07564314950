#!/usr/bin/env python3
"""The seed's ``SafetyTestFramework.test_emergency_stop``, written with the scenario harness.

Apply an e-stop in the twin while the robot drives and check that it stops without physical
risk: the gated command is zero within one command period, the robot is at rest soon after,
and it never touches anything. Nothing is sent to a physical robot; the twin's dynamics
stand in for it. Run it: ``python examples/safety_test_framework.py``.
"""

from __future__ import annotations

import sys

from twin_bridge.scenarios import ScenarioResult, run_scenario, scenario_from_dict
from twin_bridge.scenarios.report import format_table


class SafetyTestFramework:
    """Safety tests of a robot in its digital twin.

    :param world: the twin's world (a shipped name or an SDF path)
    :param start: where the robot starts, ``(x, y, yaw)``
    """

    def __init__(self, world: str = 'warehouse',
                 start: tuple[float, float, float] = (-4.5, -0.8, 0.0)) -> None:
        self.world, self.start = world, start

    def test_emergency_stop(self, speed: float = 0.4, at: float = 1.05,
                            within: float = 0.4) -> ScenarioResult:
        """Drive at ``speed`` m/s, press the e-stop at ``at`` s; the robot must be at rest
        within ``within`` s, never collide, and every command after it must be stopped."""
        x, y, yaw = self.start
        scenario = scenario_from_dict({
            'name': 'emergency_stop',
            'world': self.world,
            'start': {'x': x, 'y': y, 'yaw': yaw},
            'commands': [{'until': at + 2.0, 'v': speed, 'w': 0.0}],
            'events': {'e_stop': [at]},
            'run': {'duration': at + 2.0},
            'expect': {'never_collides': True, 'e_stop_stops_within': within,
                       'gate_verdicts': {'e_stop': '>=10'}},
        }, source='SafetyTestFramework.test_emergency_stop')
        return run_scenario(scenario)


def main() -> int:
    """Run the test and print the harness's table."""
    result = SafetyTestFramework().test_emergency_stop()
    print(format_table([result]))
    return 0 if result.passed else 1


if __name__ == '__main__':
    sys.exit(main())
