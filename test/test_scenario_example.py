"""The seed's SafetyTestFramework.test_emergency_stop, written with the harness (examples/)."""

import importlib.util
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent / 'examples' / 'safety_test_framework.py'


def _framework():
    spec = importlib.util.spec_from_file_location('safety_test_framework', EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.SafetyTestFramework


def test_emergency_stop_stops_the_twin_without_risk():
    result = _framework()().test_emergency_stop()
    assert result.passed, [c for c in result.checks if not c.passed]
    assert result.trace.e_stops == [1.05]
    assert not any(result.trace.contact)


def test_emergency_stop_fails_when_the_robot_cannot_stop_in_time():
    result = _framework()().test_emergency_stop(speed=0.8, within=0.05)
    checks = {c.name: c for c in result.checks}
    assert not result.passed and not checks['e_stop_stops_within'].passed
    assert checks['never_collides'].passed
