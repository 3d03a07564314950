"""Every shipped scenario in ``scenarios/`` passes (the suite runs them; ``pytest scenarios/``
collects the same files through the scenario plugin), and the shipped set covers the issue."""

from pathlib import Path

import pytest

from twin_bridge.scenarios import load_scenario
from twin_bridge.scenarios.pytest_plugin import check_scenario_file

SCENARIOS = sorted((Path(__file__).resolve().parent.parent / 'scenarios').glob('*.yaml'))


@pytest.mark.parametrize('path', SCENARIOS, ids=lambda p: p.stem)
def test_shipped_scenario_passes(path):
    check_scenario_file(path)


def test_at_least_ten_scenarios_cover_the_cases():
    assert len(SCENARIOS) >= 10
    scenarios = [load_scenario(p) for p in SCENARIOS]
    keys = {type(e).__name__ for s in scenarios for e in s.expectations}
    assert {'NeverCollides', 'StopsBefore', 'EStopStopsWithin', 'ReachesGoalWithin',
            'GateVerdicts'} <= keys
    assert any(s.controller for s in scenarios) and any(s.commands for s in scenarios)
    assert any(s.events.stale_scan for s in scenarios)
    assert any(o for s in scenarios for o in s.obstacles if not o.mapped)
    assert any(f.kind == 'obstacle_moved' for s in scenarios for f in s.faults)
