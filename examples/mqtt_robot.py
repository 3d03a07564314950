#!/usr/bin/env python3
"""A robot without ROS talking to its twin over MQTT: the seed's ``PhysicalRobotInterface``.

The robot publishes its odometry (here: driving a slow arc) as JSON on
``twin/<robot>/state`` and reads where its twin is on ``twin/<robot>/virtual/odom``. On the
twin's side run a broker, ``twin_mqtt`` and the twin (``./run.sh demo --mqtt`` starts all of
it for the stand-in robot; by hand, see README "Robots over MQTT"), then::

    python examples/mqtt_robot.py --port 1883 --username twin --password-file pw.txt \\
        --robot robot1

Exit status 0 once the twin's odometry came back, 1 if it never did.
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import numpy as np

from twin_bridge.core.state import OdometrySample
from twin_bridge.mqtt.broker_settings import add_broker_arguments, broker_settings_from_args
from twin_bridge.mqtt.physical_robot_interface import PhysicalRobotInterface


def arc_odometry(t: float, speed: float = 0.2, turn: float = 0.1) -> OdometrySample:
    """Where a robot driving an arc from the origin is after ``t`` seconds."""
    yaw = turn * t
    radius = speed / turn
    return OdometrySample(
        np.array([radius * math.sin(yaw), radius * (1.0 - math.cos(yaw)), 0.0]),
        np.array([0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2)]),
        np.array([speed, 0.0, 0.0]), np.array([0.0, 0.0, turn]))


def main(argv: list[str] | None = None) -> int:
    """Drive for ``--seconds``, print the twin's pose once a second."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_broker_arguments(parser)
    parser.add_argument('--robot', default='robot1', help='this robot\'s name')
    parser.add_argument('--prefix', default='twin', help='MQTT topic prefix')
    parser.add_argument('--seconds', type=float, default=5.0, help='how long to drive')
    parser.add_argument('--rate', type=float, default=20.0, help='state messages per second')
    options = parser.parse_args(argv)
    with PhysicalRobotInterface(options.robot, broker_settings_from_args(options),
                                options.prefix) as robot:
        if not robot.connect(timeout=10.0):
            print(f'cannot connect: {robot.connection.last_error}', file=sys.stderr)
            return 1
        start = time.monotonic()
        next_print = start
        while (t := time.monotonic() - start) < options.seconds:
            robot.publish_state(odometry=arc_odometry(t))  # stamped now (wall clock)
            twin = robot.virtual('odom')
            if twin is not None and time.monotonic() >= next_print:
                age_ms = (time.time_ns() - twin.stamp_ns) * 1e-6
                print(f't={t:4.1f} s  twin at x={twin.position[0]:.3f} '
                      f'y={twin.position[1]:.3f} (sample {age_ms:.1f} ms old)')
                next_print += 1.0
            time.sleep(1.0 / options.rate)
        received = robot.received['odom']
    print(f'{received} virtual odometries received')
    return 0 if received else 1


if __name__ == '__main__':
    sys.exit(main())
