#!/usr/bin/env python3
"""The command gate's end-to-end cost: the twin bridge's gated cmd_vel against a bare relay.

Per round, two runs one after the other (interleaved, so slow drifts of the machine hit both
alike): the stand-in robot (``physical_sim``: figure-eight in the warehouse, 100 Hz joint
states, 50 Hz odometry, 20 Hz 720-beam scans) feeds either the twin bridge (gate on,
``cmd_vel_stamped``, the scans as the gate's obstacle source) or a bare relay of
``cmd_vel``; this process publishes ``TwistStamped`` commands at ``--rate`` Hz (stamped
with the wall clock at publication, a cycle of straight, curved, rotating and reversing
commands) and records receive time minus header stamp on ``virtual/cmd_vel_safe`` or
``relay/cmd_vel``: command publish -> gate/relay -> this process. Reported: p50/p99/max
per consumer (median over rounds), the twin's added p50/p99 over the relay (median of the
per-round differences), and the verdicts the twin gave. Target (issue 11): the gate adds
at most 2 ms p99 over the bare relay.
"""

from __future__ import annotations

import argparse
import itertools
import os
from pathlib import Path
import sys
import time

import numpy as np

try:
    import twin_bridge  # noqa: F401 - installed, or run from a source checkout below
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from twin_bridge.demo.process_group import ProcessGroup

TARGET_ADDED_P99_MS = 2.0
#: (linear m/s, angular rad/s) commands, cycled.
COMMANDS = ((0.3, 0.0), (0.25, 0.4), (0.0, 1.2), (-0.2, 0.0), (0.4, -0.3))
CONSUMERS = {'twin': 'virtual/cmd_vel_safe', 'relay': 'relay/cmd_vel'}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--duration', type=float, default=15.0, help='s measured per run')
    parser.add_argument('--rounds', type=int, default=3, help='interleaved rounds')
    parser.add_argument('--rate', type=float, default=50.0, help='commands per second')
    parser.add_argument('--world', default='warehouse', help='world of the twin')
    parser.add_argument('--no-scan-source', action='store_true',
                        help='the twin takes no physical scans (input_scan_topic "")')
    parser.add_argument('--startup-timeout', type=float, default=60.0,
                        help='s to wait for the consumer to answer')
    return parser.parse_args(argv)


def _run(group: ProcessGroup, options: argparse.Namespace, who: str, tag: str) -> dict:
    """One consumer behind the stand-in robot; commands from this process."""
    from diagnostic_msgs.msg import DiagnosticArray
    from geometry_msgs.msg import TwistStamped

    from twin_bridge.ros.conversions import ns_to_time, time_to_ns
    from twin_bridge.ros.private_context import PrivateContext
    from twin_bridge.ros.qos import qos_profile

    if who == 'twin':
        consumer = group.spawn_node(f'twin_{tag}', 'twin_bridge.ros.bridge_node', {
            'world': options.world, 'cmd_vel_stamped': True, 'drift_check': False,
            'prediction_rate': 0.0, 'ensemble_rate': 0.0,
            **({'input_scan_topic': ''} if options.no_scan_source else {})})
    else:
        consumer = group.spawn_node(f'relay_{tag}', 'twin_bridge.ros.relay_node',
                                    {'streams': ['cmd_vel']})
    sim = group.spawn_node(f'physical_sim_{tag}', 'twin_bridge.ros.physical_sim_node', {
        'joint_states_rate': 100.0, 'odom_rate': 50.0, 'publish_scan': True,
        'world': options.world})
    latencies: list[float] = []
    verdicts: dict[str, str] = {}
    measuring = [False]
    cycle = itertools.cycle(COMMANDS)
    try:
        with PrivateContext(f'bench_gate_{tag}') as ros:
            node = ros.node
            pub = node.create_publisher(TwistStamped, 'cmd_vel', qos_profile('reliable', 10))
            msg = TwistStamped()
            msg.header.frame_id = 'base_link'

            def send() -> None:
                msg.twist.linear.x, msg.twist.angular.z = next(cycle)
                msg.header.stamp = ns_to_time(time.time_ns())
                pub.publish(msg)

            def receive(out: TwistStamped) -> None:
                if measuring[0]:
                    latencies.append((time.time_ns() - time_to_ns(out.header.stamp)) * 1e-6)

            def diagnostics(array: DiagnosticArray) -> None:
                for status in array.status:
                    if status.name == 'twin safety':
                        verdicts.clear()
                        verdicts.update({kv.key: kv.value for kv in status.values})

            node.create_subscription(TwistStamped, CONSUMERS[who], receive,
                                     qos_profile('reliable', 10))
            node.create_subscription(DiagnosticArray, '/diagnostics', diagnostics, 10)
            node.create_timer(1.0 / options.rate, send)
            count = [0]
            node.create_subscription(TwistStamped, CONSUMERS[who],
                                     lambda _m: count.__setitem__(0, count[0] + 1),
                                     qos_profile('reliable', 10))
            if not ros.spin_until(lambda: count[0] > 20, options.startup_timeout,
                                  lambda: bool(group.dead())):
                raise RuntimeError(f'{who}: no gated commands\n{consumer.tail()}')
            ros.spin_for(2.0)  # settle
            measuring[0] = True
            ros.spin_for(options.duration)
            measuring[0] = False
            ros.spin_for(1.5)  # the last diagnostics
    finally:
        group.stop(sim.name)
        group.stop(consumer.name)
    lat = np.asarray(latencies)
    return {'count': len(lat), 'p50': float(np.percentile(lat, 50)),
            'p99': float(np.percentile(lat, 99)), 'max': float(lat.max()),
            'verdicts': {k: verdicts.get(k) for k in ('pass', 'slow', 'stop')},
            'reasons': {k: v for k, v in verdicts.items() if k.startswith('reason.')}}


def main(argv: list[str] | None = None) -> int:
    """Run the rounds, print the table. :return: 0 when the target is met"""
    options = parse_args(argv)
    os.environ.setdefault('ROS_DOMAIN_ID', str(1 + os.getpid() % 100))
    os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
    rounds = []
    with ProcessGroup() as group:
        for index in range(options.rounds):
            print(f'  round {index + 1}/{options.rounds}: twin, relay', flush=True)
            rounds.append({who: _run(group, options, who, f'{who}_r{index}')
                           for who in CONSUMERS})
        group.stop_all()
    print(f'\ncmd_vel at {options.rate:g} Hz, {options.duration:g} s per run, '
          f'{options.rounds} interleaved rounds; stand-in robot 100/50/20 Hz in '
          f'{options.world} (latency ms: command publish -> consumer -> this process)')
    print(f'  {"consumer":<8} {"n":>6} {"p50":>8} {"p99":>8} {"max":>8}   (medians over rounds)')
    for who in CONSUMERS:
        med = {k: float(np.median([r[who][k] for r in rounds]))
               for k in ('count', 'p50', 'p99', 'max')}
        print(f'  {who:<8} {med["count"]:6.0f} {med["p50"]:8.3f} {med["p99"]:8.3f} '
              f'{med["max"]:8.3f}')
    added = {k: [r['twin'][k] - r['relay'][k] for r in rounds] for k in ('p50', 'p99')}
    for k, diffs in added.items():
        print(f'  gate adds {k}: {np.median(diffs):+.3f} ms (rounds: '
              + ', '.join(f'{d:+.3f}' for d in diffs) + ')')
    print(f'  twin verdicts (last round): {rounds[-1]["twin"]["verdicts"]} '
          f'{rounds[-1]["twin"]["reasons"]}')
    ok = float(np.median(added['p99'])) <= TARGET_ADDED_P99_MS
    print(f'  target: gate adds <= {TARGET_ADDED_P99_MS} ms p99: {"met" if ok else "MISSED"}')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
