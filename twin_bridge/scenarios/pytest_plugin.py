"""A pytest plugin: scenario YAML files are collected as test cases.

Load it from a ``conftest.py`` (``from twin_bridge.scenarios.pytest_plugin import
pytest_collect_file``, as ``scenarios/conftest.py`` does) or with ``-p
twin_bridge.scenarios.pytest_plugin``; then ``pytest scenarios/`` runs one test per file. A
failing scenario's report lists its failed expectations.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from twin_bridge.scenarios.runner import ScenarioResult, run_file

__all__ = ['ScenarioFailure', 'ScenarioFile', 'ScenarioItem', 'check_scenario_file',
           'pytest_collect_file']


class ScenarioFailure(Exception):  # noqa: N818 - a test outcome, as pytest.Failed
    """A scenario ran and an expectation failed, or it could not run."""


def check_scenario_file(path: str | Path) -> ScenarioResult:
    """Run one scenario file; :raise ScenarioFailure: with the table of what failed"""
    result = run_file(path)
    if result.error:
        raise ScenarioFailure(result.error)
    if not result.passed:
        raise ScenarioFailure('\n'.join(f'{c.name}: {c.detail}' for c in result.checks
                                       if not c.passed))
    return result


class ScenarioItem(pytest.Item):
    """One scenario file as a test."""

    def runtest(self) -> None:
        """Run the scenario; fail with its failed expectations."""
        check_scenario_file(self.path)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: str | None = None) -> str:
        """The failed expectations (or the load error), not a traceback."""
        if isinstance(excinfo.value, ScenarioFailure):
            return f'scenario {self.path}:\n{excinfo.value}'
        return str(super().repr_failure(excinfo, style))  # type: ignore[arg-type]

    def reportinfo(self) -> tuple[Path, int, str]:
        """Where the test is: the file."""
        return self.path, 0, f'scenario: {self.name}'


class ScenarioFile(pytest.File):
    """A scenario YAML file: one :class:`ScenarioItem`."""

    def collect(self) -> list[ScenarioItem]:
        """The file's one scenario."""
        return [ScenarioItem.from_parent(self, name=self.path.stem)]


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> ScenarioFile | None:
    """Collect ``*.yaml``/``*.yml`` files as scenarios."""
    if file_path.suffix in ('.yaml', '.yml'):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None
