"""``twin_hil``: run a controller on the physical robot and on the twin, and compare."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import textwrap

from twin_bridge.demo.hil_tester import HardwareInLoopTester
from twin_bridge.errors import TwinBridgeError
from twin_bridge.scenarios.hil_compare import HilThresholds
from twin_bridge.scenarios.hil_report import format_report

__all__ = ['main', 'parse_args']

_DEFAULT_CONTROLLER = 'twin_bridge.scenarios.controllers:go_to_goal'


def _pair(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(','))
    except ValueError:
        raise argparse.ArgumentTypeError(f'{text!r}: expected numbers separated by commas'
                                         ) from None
    return values


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command line options."""
    parser = argparse.ArgumentParser(
        prog='twin_hil', formatter_class=argparse.RawDescriptionHelpFormatter,
        description=textwrap.fill(
            'Hardware-in-the-loop comparison: drive the physical robot with a controller '
            '(the stand-in physical_sim following cmd_vel, started here; a real robot only '
            'with --live), record its odometry and the time-stamped commands, drive the '
            "twin's dynamics from the same start pose with the same commands, and compare "
            'the trajectories aligned by time. Prints position RMSE, max deviation, final '
            'pose error, time to goal and the verdict; writes report.json and report.png. '
            'Exit code: 0 validated, 1 mismatch, 2 error.', 100))
    parser.add_argument('--controller', default=_DEFAULT_CONTROLLER,
                        help="Python controller entry point 'package.module:function', "
                             'taking an Observation and returning (v, w); with '
                             '--controller-arg a factory called once (default: %(default)s, '
                             'a factory)')
    parser.add_argument('--controller-arg', action='append', default=[], metavar='KEY=VALUE',
                        help='keyword argument for the controller factory (repeatable; '
                             'numbers are numbers)')
    parser.add_argument('--controller-node', metavar='COMMAND',
                        help='a controller that is a ROS node: the command line to start '
                             '(it must publish on the robot\'s cmd_vel); replaces --controller')
    parser.add_argument('--goal', type=_pair, default=None, metavar='X,Y',
                        help='goal given to the controller (and time to goal)')
    parser.add_argument('--tolerance', type=float, default=0.25, help='goal tolerance, m')
    parser.add_argument('--start', type=_pair, default=(0.0, 0.0, 0.0), metavar='X,Y,YAW',
                        help="the stand-in's start pose (default 0,0,0)")
    parser.add_argument('--duration', type=float, default=8.0, help='driving time, s')
    parser.add_argument('--control-period', type=float, default=0.1, help='command period, s')
    parser.add_argument('--world', default='warehouse', help="the twin's world")
    parser.add_argument('--robot', default=None, help='robot URDF/xacro/SDF (default: ours)')
    parser.add_argument('--threshold', type=float, default=0.10,
                        help='position RMSE that still validates, m (default: %(default)s)')
    parser.add_argument('--final-threshold', type=float, default=0.20,
                        help='final position error that still validates, m')
    parser.add_argument('--fault', action='append', default=[], metavar='SPEC',
                        help='stand-in fault, e.g. wheel_slip:factor=1.3 (repeatable)')
    parser.add_argument('--live', action='store_true',
                        help='drive the REAL robot on --cmd-vel-topic / --odom-topic (no '
                             'stand-in is started): it moves')
    parser.add_argument('--cmd-vel-topic', default='cmd_vel')
    parser.add_argument('--odom-topic', default='odom')
    parser.add_argument('--scan-topic', default='scan', help="'' for no scan")
    parser.add_argument('--stamped', action='store_true', help='commands are TwistStamped')
    parser.add_argument('--output', '-o', default='reports/hil', help='report directory')
    parser.add_argument('--startup-timeout', type=float, default=60.0)
    return parser.parse_args(argv)


def _value(text: str) -> object:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def main(argv: list[str] | None = None) -> int:
    """Run ``twin_hil``. :return: 0 validated, 1 mismatch, 2 error"""
    args = parse_args(argv)
    os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
    try:
        if args.goal is not None and len(args.goal) != 2:
            raise TwinBridgeError('--goal: expected X,Y')
        if len(args.start) != 3:
            raise TwinBridgeError('--start: expected X,Y,YAW')
        controller_args = {}
        for item in args.controller_arg:
            key, eq, value = item.partition('=')
            if not eq or not key:
                raise TwinBridgeError(f'--controller-arg {item!r}: expected KEY=VALUE')
            controller_args[key] = _value(value)
        tester = HardwareInLoopTester(
            args.world, args.robot, start=tuple(args.start), goal=args.goal,
            tolerance=args.tolerance, duration=args.duration,
            control_period=args.control_period,
            thresholds=HilThresholds(args.threshold, args.final_threshold), live=args.live,
            cmd_vel_topic=args.cmd_vel_topic, odom_topic=args.odom_topic,
            scan_topic=args.scan_topic, stamped=args.stamped,
            stand_in={'faults': args.fault} if args.fault else None, output=args.output,
            startup_timeout=args.startup_timeout)
        controller = (shlex.split(args.controller_node) if args.controller_node
                      else args.controller)
        print(f'twin_hil: driving the {"LIVE robot" if args.live else "stand-in robot"} '
              f'for {args.duration:g} s ...', flush=True)
        try:
            if not controller_args and args.controller == _DEFAULT_CONTROLLER:
                controller_args = {}   # go_to_goal is a factory: its defaults
            result = tester.test_control_algorithm(
                controller, controller_args if controller_args or
                args.controller == _DEFAULT_CONTROLLER else None)
        finally:
            tester.close()
    except KeyboardInterrupt:
        print('twin_hil: interrupted', file=sys.stderr)
        return 2
    except (TwinBridgeError, ValueError) as exc:
        print(f'twin_hil: {exc}', file=sys.stderr)
        return 2
    print(format_report(result.comparison))
    if result.recording.bad_commands:
        print(f'  controller      {result.recording.bad_commands} outputs were not two finite '
              'numbers (sent as stops)')
    if result.report:
        print(f'  report          {result.report[0]}, {result.report[1]}')
    return 0 if result.verdict == 'validated' else 1


if __name__ == '__main__':
    sys.exit(main())
