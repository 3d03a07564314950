"""Scenario results as a text table and as JUnit XML (one testcase per scenario)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
import xml.etree.ElementTree as ET

from twin_bridge.scenarios.runner import ScenarioResult

__all__ = ['format_table', 'junit_xml', 'write_junit']


def _result(r: ScenarioResult) -> str:
    return 'ERROR' if r.error else ('PASS' if r.passed else 'FAIL')


def format_table(results: Sequence[ScenarioResult]) -> str:
    """A table: scenario, result, each expectation's detail (one per line), sim time, wall
    time, speed-up; a total line."""
    rows = [('scenario', 'result', 'expectation', 'sim s', 'wall s', 'speed-up')]
    for r in results:
        details = [f'{"ok  " if c.passed else "FAIL"} {c.name}: {c.detail}' for c in r.checks]
        if r.error:
            details = [r.error]
        timing = (f'{r.sim_time:.1f}', f'{r.wall_time + r.setup_time:.2f}',
                  f'{r.speed_up:.0f}x' if r.trace is not None else '-')
        for i, detail in enumerate(details or ['(no expectations)']):
            rows.append((r.name, _result(r), detail, *timing) if i == 0
                        else ('', '', detail, '', '', ''))
    sim = sum(r.sim_time for r in results)
    wall = sum(r.wall_time for r in results)
    total = sum(r.wall_time + r.setup_time for r in results)
    passed = sum(r.passed for r in results)
    rows.append((f'{passed}/{len(results)} passed', '', '', f'{sim:.1f}', f'{total:.2f}',
                 f'{sim / wall:.0f}x' if wall > 0 else '-'))
    widths = [max(len(row[i]) for row in rows) for i in range(6)]
    lines = []
    for k, row in enumerate(rows):
        cells = [c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths,
                                                                                    strict=True))]
        lines.append('  '.join(cells).rstrip())
        if k == 0 or k == len(rows) - 2:
            lines.append('  '.join('-' * w for w in widths))
    return '\n'.join(lines)


def junit_xml(results: Sequence[ScenarioResult], suite: str = 'twin_scenarios') -> ET.Element:
    """A ``<testsuites>`` element: one ``<testcase>`` per scenario (classname ``scenarios``,
    time the wall time), a ``<failure>`` listing the failed expectations or an ``<error>``."""
    failures = sum(1 for r in results if not r.passed and not r.error)
    errors = sum(1 for r in results if r.error)
    total = sum(r.wall_time + r.setup_time for r in results)
    root = ET.Element('testsuites', tests=str(len(results)), failures=str(failures),
                      errors=str(errors), time=f'{total:.3f}')
    node = ET.SubElement(root, 'testsuite', name=suite, tests=str(len(results)),
                         failures=str(failures), errors=str(errors), time=f'{total:.3f}')
    for r in results:
        case = ET.SubElement(node, 'testcase', classname='scenarios', name=r.name,
                             file=r.source, time=f'{r.wall_time + r.setup_time:.3f}')
        if r.error:
            ET.SubElement(case, 'error', message=r.error.splitlines()[0][:200]).text = r.error
        elif not r.passed:
            bad = [c for c in r.checks if not c.passed]
            ET.SubElement(case, 'failure', message='; '.join(c.name for c in bad)).text = '\n'.join(
                f'{c.name}: {c.detail}' for c in bad)
        out = [f'{c.name}: {"ok" if c.passed else "FAIL"}: {c.detail}' for c in r.checks]
        out.append(f'sim {r.sim_time:.1f} s, speed-up {r.speed_up:.0f}x')
        ET.SubElement(case, 'system-out').text = '\n'.join(out)
    return root


def write_junit(results: Sequence[ScenarioResult], path: str | Path) -> Path:
    """Write :func:`junit_xml` to ``path`` (parents created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tree = ET.ElementTree(junit_xml(results))
    ET.indent(tree)
    tree.write(path, encoding='utf-8', xml_declaration=True)
    return path
