"""A fleet in one twin process against one twin process per robot, measured in the same run.

For each fleet size N (``--robots``, default 1,5,10,20,40): a load process publishes, for
each of N robots, odometry at 50 Hz and joint states at 50 Hz (wall-clock stamps, robots
spread over the period as unsynchronised robots are); one ``twin_fleet`` process mirrors all
N in one world (robots 1.5 m apart, seeing each other) and publishes every robot's
virtual/odom, virtual/joint_states and a 10 Hz 360-beam virtual/scan. An observer (this
process) records receive time minus header stamp on the outputs of up to ``--observe``
robots spread over the fleet (default 3: with 8, the observer's own load on the 2 cores
raised the 20-robot p99 from 25 to 200 ms). Reported per N: p50/p99/max end to end, from
the fleet twin's /diagnostics the p99 of its odometry input's age (stamp -> its callback:
transport and queueing) and of its own callback -> publish time, the lag trend over the
window (slope of a linear fit, ms/s), delivered fraction, CPU% and RSS of the twin. The
baseline, in the same run for N <= ``--baseline-max``: N ``twin_bridge`` processes (one per
robot, the same mirroring + 10 Hz 360-beam scan, drift/prediction/gate off) behind the same
load; beyond, the two cores cannot host N twin processes and the baseline is skipped (said
so).

Targets (issue 14): 20 robots p99 <= 20 ms, RSS <= 150 MB + 5 MB per robot.

    python bench/bench_fleet.py --duration 12 --robots 1,5,10,20,40
"""

from __future__ import annotations

import argparse
import json
import math
import os
from pathlib import Path
import sys
import time

import numpy as np

try:
    import twin_bridge  # noqa: F401
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from twin_bridge.demo.process_group import ProcessGroup, cpu_and_rss
from twin_bridge.demo.report import default_report_dir, format_table

XACRO = ['lidar_samples:=360', f'lidar_max_angle:={math.pi - 2 * math.pi / 360!r}']
SPACING = 1.5
STREAMS = ('odom', 'joint_states', 'scan')


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--robots', default='1,5,10,20,40', help='fleet sizes, comma separated')
    parser.add_argument('--duration', type=float, default=12.0, help='measured s per point')
    parser.add_argument('--rate', type=float, default=50.0, help='odom and joint_states Hz')
    parser.add_argument('--observe', type=int, default=3,
                        help='robots observed per point (the observer is a Python process on '
                             'the same 2 cores: observing more makes it the bottleneck)')
    parser.add_argument('--baseline-max', type=int, default=5,
                        help='largest N also run as N single-robot twin processes')
    parser.add_argument('--shards', type=int, default=1,
                        help='run each fleet as this many twin_fleet shard processes')
    parser.add_argument('--world', default='empty', help='world of the twins')
    parser.add_argument('--output', type=Path, default=None, help='JSON result file')
    parser.add_argument('--startup-timeout', type=float, default=90.0)
    parser.add_argument('--load', type=int, default=0, help=argparse.SUPPRESS)  # internal
    return parser.parse_args(argv)


def namespaces(n: int) -> list[str]:
    """The fleet's robot namespaces."""
    return [f'r{k}' for k in range(n)]


def grid_pose(k: int, n: int) -> tuple[float, float]:
    """Robot ``k``'s start position on a square grid ``SPACING`` m apart."""
    side = math.ceil(math.sqrt(n))
    return (k % side) * SPACING, (k // side) * SPACING


def run_load(n: int, rate: float) -> int:
    """The load process: N robots' odom + joint_states at ``rate`` Hz until SIGINT/SIGTERM."""
    from nav_msgs.msg import Odometry
    import rclpy
    from rclpy.executors import ExternalShutdownException
    from rclpy.signals import SignalHandlerOptions
    from sensor_msgs.msg import JointState

    from twin_bridge.description.robot_description import (
        default_robot_path,
        load_robot_description,
    )
    from twin_bridge.ros.conversions import ns_to_time
    from twin_bridge.ros.qos import qos_profile
    from twin_bridge.ros.shutdown import shut_down_by_signal
    rclpy.init(signal_handler_options=SignalHandlerOptions.ALL)
    node = rclpy.create_node('fleet_load')
    joints = list(load_robot_description(default_robot_path()).movable_joint_names)
    qos = qos_profile('reliable', 10)
    pubs = [(node.create_publisher(Odometry, f'/{ns}/odom', qos),
             node.create_publisher(JointState, f'/{ns}/joint_states', qos))
            for ns in namespaces(n)]
    odom, js = Odometry(), JointState(name=joints, position=[0.0] * len(joints))
    odom.header.frame_id, odom.child_frame_id = 'odom', 'base_link'
    period = 1.0 / rate
    start = time.monotonic()
    tick = 0
    try:
        while rclpy.ok():
            for k, (odom_pub, js_pub) in enumerate(pubs):   # robots spread over the period
                due = start + tick * period + k * period / n
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                t = tick * period
                odom.pose.pose.position.x = 0.1 * math.sin(0.5 * t + k)
                odom.pose.pose.orientation.z = math.sin(0.1 * t)
                odom.pose.pose.orientation.w = math.cos(0.1 * t)
                odom.header.stamp = ns_to_time(time.time_ns())
                odom_pub.publish(odom)
                js.position = [0.3 * math.sin(t + k)] * len(joints)
                js.header.stamp = ns_to_time(time.time_ns())
                js_pub.publish(js)
            tick += 1
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except Exception:
        if not shut_down_by_signal():  # a publish racing the signal's shutdown
            raise
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


def write_fleet(directory: Path, n: int) -> Path:
    """A fleet file of N package robots (360 beams) on a grid."""
    import yaml
    robots = [{'namespace': ns, 'pose': dict(zip(('x', 'y'), grid_pose(k, n), strict=True)),
               'description': {'xacro_args': XACRO}} for k, ns in enumerate(namespaces(n))]
    path = directory / f'fleet_{n}.yaml'
    path.write_text(yaml.safe_dump({'robots': robots}))
    return path


def observed(n: int, count: int) -> list[str]:
    """Up to ``count`` namespaces spread over the fleet."""
    index = sorted({int(round(i)) for i in np.linspace(0, n - 1, min(n, count))})
    return [f'r{k}' for k in index]


def measure(group: ProcessGroup, twins: list, n: int, options: argparse.Namespace,
            tag: str) -> dict:
    """Start the load, observe the outputs of the observed robots, return the figures."""
    from twin_bridge.ros.observer import ObservedStream, ObserverSession, standard_streams
    base = standard_streams()
    streams = {f'{ns}/{s}': ObservedStream(f'/{ns}/virtual/{s}', base[f'virtual/{s}'].msg_type,
                                           base[f'virtual/{s}'].qos)
               for ns in observed(n, options.observe) for s in STREAMS}
    load = group.spawn(f'load_{tag}', [sys.executable, __file__, '--load', str(n),
                                       '--rate', str(options.rate)])
    try:
        with ObserverSession(streams, node_name=f'fleet_observer_{tag}',
                             diagnostics_topic='/diagnostics') as obs:
            if not obs.spin_until(lambda: all(obs.node.count(s) for s in streams),
                                  options.startup_timeout, abort=group.dead):
                dead = '\n'.join(f'{p.name}: {p.tail()}' for p in group.dead())
                raise RuntimeError(f'{tag}: outputs not flowing\n{dead}')
            obs.spin_for(2.0)
            obs.node.reset()
            pids = [p.pid for p in twins]
            before = [cpu_and_rss(pid) for pid in pids]
            start = time.monotonic()
            obs.spin_for(options.duration)
            elapsed = time.monotonic() - start
            after = [cpu_and_rss(pid) for pid in pids]
            result = {'cpu_percent': sum(100 * (a[0] - b[0]) / elapsed
                                         for a, b in zip(after, before, strict=True)),
                      'rss_mb': sum(a[1] for a in after) / 2**20,
                      'in_twin_p99': _in_twin_p99(obs.node.diagnostics, n, options),
                      'input_age_p99': _in_twin_p99(obs.node.diagnostics, n, options, 'odom',
                                                    'age_ms.p99')}
            for s in STREAMS:
                lat, times = [], []
                for label in streams:
                    if label.endswith('/' + s):
                        la, ti = obs.node.stats(label).window()
                        lat.append(la)
                        times.append(ti)
                lat, times = np.concatenate(lat), np.concatenate(times)
                order = np.argsort(times)
                lat, times = lat[order] * 1e3, times[order]
                expected = (options.rate if s != 'scan' else 10.0) * elapsed * len(
                    observed(n, options.observe))
                slope = (float(np.polyfit(times - times[0], lat, 1)[0])
                         if len(lat) > 10 else float('nan'))
                result[s] = {'n': int(len(lat)), 'delivered': len(lat) / expected,
                             'p50': float(np.percentile(lat, 50)),
                             'p99': float(np.percentile(lat, 99)), 'max': float(lat.max()),
                             'slope_ms_per_s': slope}
    finally:
        group.stop(load.name)
    return result


def _in_twin_p99(diagnostics: dict, n: int, options: argparse.Namespace,
                 stream: str = 'virtual/odom', key: str = 'latency_ms.p99') -> float:
    """A p99 (ms) from the fleet twin's /diagnostics, worst of the observed robots: by
    default its own input-receipt -> publish time of virtual/odom; ``odom``/``age_ms.p99``
    is stamp -> receipt of its odometry input (NaN for the single twins: their statuses
    share one name)."""
    values = [diagnostics.get(f'{ns}/twin_fleet: {stream}', {}).get('values', {})
              .get(key) for ns in observed(n, options.observe)]
    values = [float(v) for v in values if v not in (None, 'nan')]
    return max(values) if values else float('nan')


def fleet_point(group: ProcessGroup, n: int, options: argparse.Namespace,
                directory: Path) -> dict:
    """N robots in one twin_fleet process (``--shards K``: K shard processes of the same
    fleet file, figures summed over them)."""
    shards = max(1, min(options.shards, n))
    fleet_file = str(write_fleet(directory, n))
    twins = [group.spawn_node(f'fleet_{n}_{i}', 'twin_bridge.ros.fleet_node', {
        'fleet_file': fleet_file, 'world': options.world, 'scan_rate': 10.0,
        'shard': f'{i}/{shards}'}) for i in range(shards)]
    try:
        return measure(group, twins, n, options, f'fleet_{n}')
    finally:
        for twin in twins:
            group.stop(twin.name)


def baseline_point(group: ProcessGroup, n: int, options: argparse.Namespace) -> dict:
    """N single-robot twin_bridge processes, one per namespace."""
    twins = [group.spawn_node(f'single_{n}_{ns}', 'twin_bridge.ros.bridge_node', {
        'world': options.world, 'scan_rate': 10.0, 'robot_description_args': XACRO,
        'drift_check': False, 'prediction_rate': 0.0, 'ensemble_rate': 0.0, 'gate': False,
        'input_scan_topic': ''}, ros_args=['-r', f'__ns:=/{ns}']) for ns in namespaces(n)]
    try:
        return measure(group, twins, n, options, f'single_{n}')
    finally:
        for twin in twins:
            group.stop(twin.name)


def cast_pass(n: int, world: str, directory: Path, repeats: int = 20) -> dict:
    """In this process, no ROS: one FleetScanner pass over N robots (each seeing the others)
    against N single-robot EmbeddedBackend scans (which see only the world), median ms."""
    from twin_bridge.description.robot_description import (
        default_robot_path,
        load_robot_description,
    )
    from twin_bridge.embedded.embedded_backend import EmbeddedBackend
    from twin_bridge.fleet.fleet_model import FleetModel
    from twin_bridge.fleet.fleet_scan import FleetScanner
    from twin_bridge.fleet.fleet_spec import load_fleet_file
    fleet = FleetModel(load_fleet_file(write_fleet(directory, n), world=world))
    scanner = FleetScanner(fleet, [f'r{k}' for k in range(n)])
    robot = load_robot_description(default_robot_path(), dict(a.split(':=') for a in XACRO))
    singles = [EmbeddedBackend(world, robot) for _ in range(min(n, 10))]
    fleet_ms, single_ms = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        scanner.cast()
        fleet_ms.append((time.perf_counter() - start) * 1e3)
        start = time.perf_counter()
        for backend in singles:
            backend.scan()
        single_ms.append((time.perf_counter() - start) * 1e3 * n / len(singles))
    return {'fleet_pass_ms': float(np.median(fleet_ms)),
            'single_scans_ms': float(np.median(single_ms))}


def main(argv: list[str] | None = None) -> int:
    """Run every point, print the table, write the JSON."""
    options = parse_args(argv)
    if options.load:
        return run_load(options.load, options.rate)
    os.environ.setdefault('ROS_DOMAIN_ID', str(1 + os.getpid() % 100))
    os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
    sizes = [int(s) for s in options.robots.split(',') if s.strip()]
    output = options.output or default_report_dir(prefix='bench-fleet').with_suffix('.json')
    result: dict = {'config': {k: str(v) for k, v in vars(options).items()}, 'points': {},
                    'load_avg_before': os.getloadavg()}
    with ProcessGroup() as group:
        for n in sizes:
            result.setdefault('cast', {})[n] = cast_pass(n, options.world, group.log_dir)
            print(f'  {n} robot(s): one fleet twin ({options.shards} shard process(es))',
                  flush=True)
            point = {'fleet': fleet_point(group, n, options, group.log_dir)}
            if n <= options.baseline_max:
                print(f'  {n} robot(s): {n} single-robot twin processes', flush=True)
                point['single'] = baseline_point(group, n, options)
            result['points'][n] = point
    rows = []
    for n, point in result['points'].items():
        for who, r in point.items():
            rows.append([f'{n} {who}', *(r[s]['p99'] for s in STREAMS), r['input_age_p99'],
                         r['in_twin_p99'],
                         r['odom']['p50'],
                         max(r[s]['max'] for s in STREAMS), r['odom']['slope_ms_per_s'],
                         min(r[s]['delivered'] for s in STREAMS) * 100, r['cpu_percent'],
                         r['rss_mb']])
    result['load_avg_after'] = os.getloadavg()
    print(f'\nmachine load average (1 min) before {result["load_avg_before"][0]:.1f}, after '
          f'{result["load_avg_after"][0]:.1f} on {os.cpu_count()} cores')
    print(f'\n{options.rate:g} Hz odom + {options.rate:g} Hz joint_states per robot in, 10 Hz '
          f'360-beam scans out, {options.duration:g} s per point (latency ms, end to end; '
          f'up to {options.observe} robots observed; single = N twin_bridge processes, run '
          f'for N <= {options.baseline_max} only)')
    print(format_table(['robots', 'odom p99', 'joints p99', 'scan p99', 'input age p99',
                        'in-twin p99',
                        'odom p50', 'max',
                        'trend ms/s', 'delivered %', 'CPU %', 'RSS MB'], rows))
    print('\nScans of N robots per tick, in-process (median ms): one fleet pass (robots see each '
          'other) vs N single-robot backends (world only)')
    print(format_table(['robots', 'fleet pass', 'N single scans', 'ratio'],
                       [[n, c['fleet_pass_ms'], c['single_scans_ms'],
                         c['fleet_pass_ms'] / c['single_scans_ms']]
                        for n, c in result['cast'].items()]))
    print('\nTargets:')
    for n, point in result['points'].items():
        fleet = point['fleet']
        p99 = max(fleet[s]['p99'] for s in ('odom', 'joint_states'))
        limit = 150 + 5 * n
        line = (f'  {n} robots: state p99 {p99:.1f} ms, RSS {fleet["rss_mb"]:.0f} MB '
                f'(<= {limit} MB: {"PASS" if fleet["rss_mb"] <= limit else "FAIL"})')
        if n == 20:
            line += f'; p99 <= 20 ms: {"PASS" if p99 <= 20 else "FAIL"}'
        if 'single' in point:
            single = point['single']
            base = max(single[s]['p99'] for s in ('odom', 'joint_states'))
            line += (f'; vs {n} single twins: p99 {base:.1f} ms (x{p99 / base:.2f}), RSS '
                     f'{single["rss_mb"]:.0f} MB (x{fleet["rss_mb"] / single["rss_mb"]:.2f})')
        print(line)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=1, default=str))
    print(f'\nwrote {output}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
