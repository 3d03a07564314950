"""A stand-in robot that speaks MQTT and no ROS: the scripted figure-eight (the same motion as
``physical_sim``) published as JSON state through :class:`PhysicalRobotInterface`.

Run: ``python -m twin_bridge.mqtt.stand_in_robot --port 1883 --username u --password-file f``.
"""

from __future__ import annotations

import argparse
from collections import deque
from collections.abc import Sequence
import signal
import sys
import threading
import time

import numpy as np

from twin_bridge.core.name_value import parse_name_value_args
from twin_bridge.description.robot_description import default_robot_path, load_robot_description
from twin_bridge.errors import TwinBridgeError
from twin_bridge.mqtt.broker_settings import add_broker_arguments, broker_settings_from_args
from twin_bridge.mqtt.physical_robot_interface import PhysicalRobotInterface
from twin_bridge.stand_in.motion_profiles import MAX_RATE_HZ, MOTIONS, make_motion
from twin_bridge.stand_in.pacing import PeriodicSchedule

__all__ = ['build_parser', 'main', 'run']


def build_parser() -> argparse.ArgumentParser:
    """The stand-in MQTT robot's command line."""
    parser = argparse.ArgumentParser(
        prog='python -m twin_bridge.mqtt.stand_in_robot',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description='A stand-in robot without ROS: publishes its scripted state (joints, '
                    'pose, twist; wall-clock stamps) as JSON on <prefix>/<robot>/state and '
                    'counts the twin\'s virtual/odom it reads back. Stops on SIGINT/SIGTERM.')
    add_broker_arguments(parser)
    parser.add_argument('--prefix', default='twin', help='MQTT topic prefix')
    parser.add_argument('--robot', default='robot1', help='robot name (one topic level)')
    parser.add_argument('--rate', type=float, default=50.0,
                        help=f'state messages per second (up to {MAX_RATE_HZ:g})')
    parser.add_argument('--motion', choices=MOTIONS, default='figure_eight',
                        help='scripted motion')
    parser.add_argument('--speed', type=float, default=0.3, help='figure-eight speed (m/s)')
    parser.add_argument('--period', type=float, default=20.0, help='s per figure-eight')
    parser.add_argument('--state-qos', choices=('sensor_data', 'reliable'),
                        default='sensor_data', help='QoS 0 or QoS 1 for the state')
    parser.add_argument('--robot-description-file', default='',
                        help='robot xacro/URDF ("" = the package default robot)')
    parser.add_argument('--robot-description-arg', action='append', default=[],
                        metavar='NAME:=VALUE', help='xacro argument (repeatable)')
    parser.add_argument('--duration', type=float, default=0.0,
                        help='s to run (0 = until stopped)')
    return parser


def run(options: argparse.Namespace, stop: threading.Event) -> int:
    """Publish until ``stop`` is set (or ``options.duration`` passes); return the exit code."""
    if not 0 < options.rate <= MAX_RATE_HZ:
        raise TwinBridgeError(f'--rate must be within 0..{MAX_RATE_HZ:g} Hz, got {options.rate}')
    xacro_args = parse_name_value_args(options.robot_description_arg, '--robot-description-arg')
    robot = load_robot_description(options.robot_description_file or default_robot_path(),
                                   xacro_args or None)
    joints = [(j.name, j.lower, j.upper) for j in map(robot.joint, robot.movable_joint_names)]
    motion = make_motion(options.motion, joints, robot.wheel_joint_names, speed=options.speed,
                         period=options.period)
    round_trips: deque[float] = deque(maxlen=10_000)  # s, state sent -> its twin odom back

    def virtual(stream: str, sample: object) -> None:
        if stream == 'odom' and sample.stamp_ns:
            round_trips.append((time.time_ns() - sample.stamp_ns) * 1e-9)

    link = PhysicalRobotInterface(options.robot, broker_settings_from_args(options),
                                  options.prefix, state_qos=options.state_qos,
                                  on_virtual=virtual)
    sent = unsent = 0
    with link:
        link.connect(timeout=0.0)  # connects in the background; states wait for it
        while not link.connected and not stop.wait(0.02):
            if link.connection.refusals:  # bad credentials do not fix themselves
                raise TwinBridgeError(link.connection.last_error)
        start = time.monotonic()
        schedule = PeriodicSchedule(start)
        schedule.add('state', options.rate)
        print(f'stand_in_robot: {options.robot} publishing {options.prefix}/{options.robot}/'
              f'state at {options.rate:g} Hz', flush=True)
        while not stop.is_set():
            _, due = schedule.next_due()
            if stop.wait(max(due - time.monotonic(), 0.0)):
                break
            t = time.monotonic() - start
            if options.duration and t > options.duration:
                break
            stamp = time.time_ns()
            if link.publish_state(motion.joint_state(t, stamp), motion.odometry(t, stamp),
                                  stamp):
                sent += 1
            else:
                unsent += 1
            schedule.done('state', time.monotonic())
        trip = (f', round trip p50 {np.percentile(round_trips, 50) * 1e3:.2f} ms, p99 '
                f'{np.percentile(round_trips, 99) * 1e3:.2f} ms' if round_trips else '')
        print(f'stand_in_robot: sent {sent} states ({unsent} while the broker was away), '
              f'read {link.received["odom"]} virtual odometries over MQTT{trip}; '
              f'{link.connection.disconnects} disconnects', flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run until SIGINT/SIGTERM."""
    options = build_parser().parse_args(argv)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        return run(options, stop)
    except TwinBridgeError as exc:
        print(f'stand_in_robot: {exc}', file=sys.stderr)
        return 2


if __name__ == '__main__':
    sys.exit(main())
