"""The ``twin_replay`` console script: run the twin over a physical robot's bag, report."""

from __future__ import annotations

import argparse
from pathlib import Path
import sys

from twin_bridge.errors import TwinBridgeError
from twin_bridge.recording.replay import ReplayOptions, ReplayTopics, replay
from twin_bridge.recording.replay_report import summary_lines, write_report
from twin_bridge.twin.digital_twin import TwinConfig

__all__ = ['main', 'parse_args']


def parse_args(argv: list[str]) -> argparse.Namespace:
    """``twin_replay``'s arguments. :raise SystemExit: on ``--help`` or bad arguments"""
    parser = argparse.ArgumentParser(
        prog='twin_replay',
        description='Run the digital twin over a recording of a physical robot (joint_states,'
                    ' odom, optionally scan and cmd_vel; MCAP or sqlite3 bag) with the same '
                    'mirroring, drift check and prediction as live, and write a report.')
    parser.add_argument('bag', type=Path, help='a rosbag2 folder, .mcap or .db3 file')
    parser.add_argument('--world', default='warehouse', help='shipped world name or SDF path')
    parser.add_argument('--robot', default=None, help='URDF/xacro (default: the package\'s)')
    parser.add_argument('--namespace', default='', help='the robot\'s topic namespace')
    parser.add_argument('--rate', type=float, default=0.0,
                        help='bag seconds per wall second (0 = as fast as possible)')
    parser.add_argument('--prediction-rate', type=float, default=10.0, metavar='HZ')
    parser.add_argument('--ensemble-rate', type=float, default=0.0, metavar='HZ',
                        help='physics-ensemble predictions per bag second (0 = none)')
    parser.add_argument('--no-drift', action='store_true', help='mirror only')
    parser.add_argument('--output', type=Path, default=None,
                        help='report folder (default: reports/replay-<bag name>)')
    parser.add_argument('--bag-out', type=Path, default=None,
                        help='also write a new bag: the inputs plus the virtual streams')
    ns = parser.parse_args(argv)
    for name in ('rate', 'prediction_rate', 'ensemble_rate'):
        if getattr(ns, name) < 0:
            parser.error(f'--{name.replace("_", "-")} must be >= 0')
    return ns


def main(args: list[str] | None = None) -> int:
    """Replay, print the summary, write the report. :return: 0, or 1 on a bad bag"""
    ns = parse_args(sys.argv[1:] if args is None else list(args))
    options = ReplayOptions(world=ns.world, robot=ns.robot,
                            topics=ReplayTopics.under(ns.namespace), rate=ns.rate,
                            prediction_rate=ns.prediction_rate, ensemble_rate=ns.ensemble_rate,
                            config=TwinConfig(drift=not ns.no_drift), output_bag=ns.bag_out)

    def progress(done: float, total: float) -> None:
        print(f'\r  {done:7.1f} / {total:.1f} s', end='', file=sys.stderr, flush=True)

    try:
        result = replay(ns.bag, options, progress=progress)
    except (TwinBridgeError, OSError) as exc:
        print(f'\ntwin_replay: {exc}', file=sys.stderr)
        return 1
    print('\r', end='', file=sys.stderr)
    folder = ns.output or Path('reports') / f'replay-{ns.bag.resolve().name}'
    json_path, png_path = write_report(result, folder)
    print('\n'.join(summary_lines(result)))
    print(f'report: {json_path}, {png_path}' + (f'; bag: {result.output_bag}'
                                                if result.output_bag else ''))
    return 0


if __name__ == '__main__':
    sys.exit(main())
