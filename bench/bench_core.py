#!/usr/bin/env python3
"""Benchmark of the core path per message: JointState and Odometry through the twin.

Prints one table of per-message times (median and p99, µs). Every figure is measured in
this run next to its baseline, a bare copy of the same message (``copy.copy``) and the
construction of a message of the same size, and reported as a ratio to the copy:
- *core*: ``DigitalTwin.on_joint_state``/``on_odometry``, what the node calls (validation,
  stamps, mirroring into the embedded MuJoCo backend, the output sample, queueing for the
  drift check and the prediction's score) and recording the publication;
- *with conversion*: the same plus the conversion from the ROS message and building the
  output message (what the node does per message, short of DDS).
Target (issue 8): at most 25 µs per message on the *with conversion* path (median).
"""

from __future__ import annotations

import argparse
import copy
from dataclasses import replace
from pathlib import Path
import sys
import time

from nav_msgs.msg import Odometry
import numpy as np
from sensor_msgs.msg import JointState

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from twin_bridge.core.transforms import quat_from_rpy
from twin_bridge.description.robot_description import (
    default_robot_path,
    load_robot_description,
)
from twin_bridge.embedded.embedded_backend import EmbeddedBackend
from twin_bridge.ros.conversions import (
    joint_state_from_msg,
    joint_state_to_msg,
    odometry_from_msg,
    odometry_to_msg,
)
from twin_bridge.twin.digital_twin import DigitalTwin

TARGET_US = 25.0
WALL = 1_700_000_000_000_000_000


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command line options."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--messages', type=int, default=2000,
                        help='messages per path and round (default: %(default)s)')
    parser.add_argument('--rounds', type=int, default=5,
                        help='rounds, paths interleaved (default: %(default)s)')
    parser.add_argument('--extra-joints', type=int, default=0,
                        help='joints added to the robot (xacro-free: a chain of revolute '
                             'joints), to see how the path scales (default: %(default)s)')
    return parser.parse_args(argv)


def _stamp(msg: JointState | Odometry, ns: int) -> None:
    msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(ns, 1_000_000_000)


def _robot(extra: int):
    robot = load_robot_description(default_robot_path())
    if not extra:
        return robot
    from twin_bridge.description.robot_description import parse_urdf
    links = ''.join(f'<link name="x{i}"><inertial><mass value="0.1"/><inertia ixx="1e-4" '
                    'ixy="0" ixz="0" iyy="1e-4" iyz="0" izz="1e-4"/></inertial></link>'
                    f'<joint name="xj{i}" type="revolute"><parent link="'
                    f'{"base_link" if i == 0 else f"x{i - 1}"}"/><child link="x{i}"/>'
                    '<axis xyz="0 0 1"/><limit lower="-3" upper="3" effort="1" velocity="1"/>'
                    '</joint>' for i in range(extra))
    return parse_urdf(robot.urdf_xml.replace('</robot>', links + '</robot>'))


class Paths:
    """The measured paths, each a function of the message number."""

    def __init__(self, n: int, extra_joints: int) -> None:
        robot = _robot(extra_joints)
        self.backend = EmbeddedBackend('empty', robot, lidar_noise=False)
        self.twin = DigitalTwin('empty', robot, backend=self.backend, now=0.0)
        self.session = self.twin.session
        names = list(self.backend.joint_names)
        rng = np.random.default_rng(0)
        self.joint_msgs = []
        self.odom_msgs = []
        for _ in range(n):
            msg = JointState(name=names, position=rng.uniform(-1, 1, len(names)).tolist(),
                             velocity=rng.uniform(-1, 1, len(names)).tolist())
            self.joint_msgs.append(msg)
            odom = Odometry()
            odom.header.frame_id, odom.child_frame_id = 'odom', robot.root_link
            p, q = odom.pose.pose.position, odom.pose.pose.orientation
            p.x, p.y = rng.uniform(-5, 5, 2).tolist()
            q.x, q.y, q.z, q.w = quat_from_rpy(0.0, 0.0, float(rng.uniform(-3, 3))).tolist()
            odom.twist.twist.linear.x, odom.twist.twist.angular.z = 0.3, 0.1
            self.odom_msgs.append(odom)
        self.joint_samples = [joint_state_from_msg(m) for m in self.joint_msgs]
        self.odom_samples = [odometry_from_msg(m) for m in self.odom_msgs]
        self.stamp = WALL
        self.joint_out, self.odom_out = JointState(), Odometry()  # reused, as the node does

    def restamp(self) -> None:
        """Fresh, increasing stamps for a path (so no sample is refused as old)."""
        for msgs, samples in ((self.joint_msgs, self.joint_samples),
                              (self.odom_msgs, self.odom_samples)):
            for i, msg in enumerate(msgs):
                self.stamp += 1000
                _stamp(msg, self.stamp)
                samples[i] = replace(samples[i], stamp_ns=self.stamp)

    def joint_copy(self, i: int) -> None:
        copy.copy(self.joint_msgs[i])

    def joint_construct(self, i: int) -> None:
        msg = self.joint_msgs[i]
        JointState(header=msg.header, name=msg.name, position=msg.position,
                   velocity=msg.velocity)

    def joint_core(self, i: int) -> None:
        sample = self.joint_samples[i]
        out = self.twin.on_joint_state(sample, 1.0, sample.stamp_ns)
        assert out.output is not None, out.describe()
        self.session.joint_states_out.published(1.0)

    def joint_full(self, i: int) -> None:
        msg = self.joint_msgs[i]
        sample = joint_state_from_msg(msg)
        out = self.twin.on_joint_state(sample, 1.0, sample.stamp_ns)
        joint_state_to_msg(out.output, msg=self.joint_out)
        self.session.joint_states_out.published(1.0)

    def odom_copy(self, i: int) -> None:
        copy.copy(self.odom_msgs[i])

    def odom_construct(self, i: int) -> None:
        msg = self.odom_msgs[i]
        Odometry(header=msg.header, child_frame_id=msg.child_frame_id, pose=msg.pose,
                 twist=msg.twist)

    def odom_core(self, i: int) -> None:
        sample = self.odom_samples[i]
        out = self.twin.on_odometry(sample, 1.0, sample.stamp_ns)
        assert out.output is not None, out.describe()
        self.session.odom_out.published(1.0)

    def odom_full(self, i: int) -> None:
        msg = self.odom_msgs[i]
        sample = odometry_from_msg(msg)
        out = self.twin.on_odometry(sample, 1.0, sample.stamp_ns)
        odometry_to_msg(out.output, 'odom', out.output.child_frame_id, self.odom_out)
        self.session.odom_out.published(1.0)


def measure(fn, n: int) -> list[int]:
    """Per-call times (ns) of ``fn(i)`` for ``i < n``."""
    clock = time.perf_counter_ns
    times = []
    for i in range(n):
        start = clock()
        fn(i)
        times.append(clock() - start)
    return times


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table; exit status 1 if the target is missed."""
    args = parse_args(argv)
    paths = Paths(args.messages, args.extra_joints)
    names = ('copy', 'construct', 'core', 'full')
    results: dict[str, list[int]] = {f'{kind}_{name}': [] for kind in ('joint', 'odom')
                                     for name in names}
    for _ in range(args.rounds):
        for key in results:   # interleaved: each round measures every path once
            paths.restamp()
            results[key] += measure(getattr(paths, key), args.messages)
    labels = {'copy': 'bare copy.copy (baseline)', 'construct': 'construct same size',
              'core': 'core: twin + mirror + output', 'full': 'with conversion, both ways'}
    joints = len(paths.backend.joint_names)
    print(f'per message, {args.rounds} x {args.messages} messages, {joints} joints, '
          'embedded backend (empty world)')
    print(f'{"path":<34} {"median µs":>10} {"p99 µs":>8} {"x copy":>7} {"p99 x copy":>11}')
    missed = False
    for kind, title in (('joint', 'JointState'), ('odom', 'Odometry')):
        print(title)
        base = np.array(results[f'{kind}_copy']) / 1e3
        base_med, base_p99 = np.median(base), np.percentile(base, 99)
        for name in names:
            t = np.array(results[f'{kind}_{name}']) / 1e3
            med, p99 = float(np.median(t)), float(np.percentile(t, 99))
            print(f'  {labels[name]:<32} {med:10.2f} {p99:8.2f} {med / base_med:7.1f} '
                  f'{p99 / base_p99:11.1f}')
            if name == 'full' and med > TARGET_US:
                missed = True
    print(f'target: "with conversion" median <= {TARGET_US:g} µs: '
          + ('MISSED' if missed else 'met'))
    return 1 if missed else 0


if __name__ == '__main__':
    sys.exit(main())
