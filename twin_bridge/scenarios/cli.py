"""``twin_scenarios run FILES...``: run safety scenarios, print a table, write JUnit and PNGs.

Exit status: 0 when every scenario passed, 1 when one failed or could not run, 2 on bad
usage, 130 when interrupted (Ctrl-C: the finished scenarios are still reported).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
import sys
import time

from twin_bridge.scenarios.plot import plot_result
from twin_bridge.scenarios.report import format_table, write_junit
from twin_bridge.scenarios.runner import ScenarioResult, run_file

__all__ = ['main', 'scenario_files']


def scenario_files(paths: Sequence[str]) -> list[Path]:
    """The files named, directories expanded to their ``*.yaml``/``*.yml`` (sorted)."""
    out: list[Path] = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            out += sorted(p for p in path.rglob('*') if p.suffix in ('.yaml', '.yml'))
        else:
            out.append(path)
    return out


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog='twin_scenarios', description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest='command', required=True)
    run = sub.add_parser('run', help='run scenario files (or directories of them)')
    run.add_argument('files', nargs='+', help='scenario YAML files or directories')
    run.add_argument('--junit', metavar='FILE', help='write JUnit XML here')
    run.add_argument('--output', metavar='DIR', help='write a PNG per scenario here')
    run.add_argument('--seed', type=int, default=None,
                     help="seed every scenario with this (default: each file's run.seed)")
    run.add_argument('--quiet', action='store_true', help='no progress lines')
    return parser


def _report(results: list[ScenarioResult], args: argparse.Namespace) -> None:
    if results:
        print(format_table(results))
    if args.junit:
        print(f'JUnit XML: {write_junit(results, args.junit)}')


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``twin_scenarios`` (and ``python -m twin_bridge.scenarios``)."""
    args = _parser().parse_args(argv)
    files = scenario_files(args.files)
    if not files:
        print('twin_scenarios: no scenario files found', file=sys.stderr)
        return 2
    results: list[ScenarioResult] = []
    try:
        for i, path in enumerate(files, 1):
            began = time.perf_counter()
            if not args.quiet:
                print(f'[{i}/{len(files)}] {path} ...', file=sys.stderr, flush=True)
            result = run_file(path, seed=args.seed)
            results.append(result)
            if args.output and result.trace is not None:
                plot_result(result, Path(args.output) / f'{result.name}.png')
            if not args.quiet:
                state = 'ERROR' if result.error else ('PASS' if result.passed else 'FAIL')
                print(f'[{i}/{len(files)}] {result.name}: {state} ({result.sim_time:.1f} s sim '
                      f'in {time.perf_counter() - began:.2f} s)', file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        print(f'\ntwin_scenarios: interrupted after {len(results)} of {len(files)} scenarios',
              file=sys.stderr)
        _report(results, args)
        return 130
    _report(results, args)
    return 0 if all(r.passed for r in results) else 1


if __name__ == '__main__':  # pragma: no cover
    sys.exit(main())
