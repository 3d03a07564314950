"""End-to-end latency of the twin bridge against a bare rclpy relay, measured in the same run.

Phase 1 (``--duration`` s): the stand-in robot publishes joint_states at 100 Hz, odom at
50 Hz and 720-ray scans at 20 Hz; the twin bridge (embedded backend) and a bare relay
(subscribe + republish) both consume them. An observer (this process) records receive time
minus header stamp on every output: that is physical publish → twin/relay publish →
observer. Reported per stream: p50/p95/p99/max of both, their ratio, and the node's CPU%
and RSS (from /proc) at this load.

Phase 2 (``--rates``): joint_states alone stepped up (e.g. 100 → 2000 Hz), ``--step``
seconds each, first through the relay alone, then through the twin alone (only the stand-in
robot, the one consumer and this observer run). A rate is sustained when >= 95 % of the
messages published in the window arrive and latency does not grow over it (slope of a
linear fit < 1 ms/s, median of the last fifth < median of the first fifth + 2 ms). The
relay's steps show what the transport, the publisher and this observer can carry here.

Targets (issue 4): twin p99 <= 1.5 x relay p99, twin p50 <= 2 ms, >= 1 kHz sustained.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
from pathlib import Path
import re
import sys
import time

import numpy as np

try:
    import twin_bridge  # noqa: F401 - installed, or run from a source checkout below
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from twin_bridge.demo.process_group import ProcessGroup, cpu_and_rss
from twin_bridge.demo.report import default_report_dir, format_table, json_safe
from twin_bridge.twin.latency_stats import LatencySummary, summarize

STATE_STREAMS = ('joint_states', 'odom')
ALL_STREAMS = ('joint_states', 'odom', 'scan')


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--duration', type=float, default=20.0,
                        help='seconds of phase 1 (100 Hz joints, 50 Hz odom, 20 Hz scans)')
    parser.add_argument('--rates', default='100,250,500,1000,2000',
                        help='joint_states rates (Hz) for phase 2, comma separated; '
                             '"" skips phase 2')
    parser.add_argument('--step', type=float, default=6.0,
                        help='seconds measured per rate step')
    parser.add_argument('--world', default='warehouse', help='world of the twin')
    parser.add_argument('--output', type=Path, default=None,
                        help='JSON result file (default reports/bench-latency-<time>.json)')
    parser.add_argument('--startup-timeout', type=float, default=60.0,
                        help='seconds to wait for the nodes to start publishing')
    return parser.parse_args(argv)


def lag_trend(latencies_s: np.ndarray, times_s: np.ndarray) -> tuple[float, float]:
    """How latency develops over a window: (slope in ms per s of a linear fit,
    median of the last fifth minus median of the first fifth, in ms)."""
    if len(latencies_s) < 10:
        return float('nan'), float('nan')
    slope = np.polyfit(times_s - times_s[0], latencies_s * 1e3, 1)[0]
    fifth = len(latencies_s) // 5
    growth = (np.median(latencies_s[-fifth:]) - np.median(latencies_s[:fifth])) * 1e3
    return float(slope), float(growth)


def _figures(s: LatencySummary) -> dict:
    return {'count': s.count, 'rate_hz': s.rate_hz, 'p50': s.p50 * 1e3, 'p95': s.p95 * 1e3,
            'p99': s.p99 * 1e3, 'max': s.max * 1e3, 'mean': s.mean * 1e3}


def _wait_flowing(obs, group, labels, timeout: float) -> None:
    node = obs.node
    if not obs.spin_until(lambda: all(node.count(label) for label in labels), timeout,
                          abort=group.dead):
        silent = [label for label in labels if not node.count(label)]
        dead = '\n'.join(f'--- {p.name} (exit {p.returncode}):\n{p.tail()}'
                         for p in group.dead())
        raise RuntimeError(f'no messages on {silent} within {timeout:.0f} s\n{dead}')


def _streams(prefixes: dict[str, str], names, physical: bool):
    from twin_bridge.ros.observer import ObservedStream, standard_streams
    base = standard_streams(physical_scan=True)
    streams = {}
    for who, prefix in prefixes.items():
        for name in names:
            template = base[f'virtual/{name}']
            streams[f'{who}/{name}'] = ObservedStream(prefix + name, template.msg_type,
                                                      template.qos)
    if physical:
        for name in names:
            streams[f'physical/{name}'] = base[f'physical/{name}']
    return streams


def phase_one(group: ProcessGroup, options: argparse.Namespace) -> dict:
    """Twin vs relay at 100/50/20 Hz; CPU and RSS of every node."""
    from twin_bridge.ros.observer import ObserverSession
    twin = _spawn_consumer(group, options, 'twin', 'phase1')
    relay = _spawn_consumer(group, options, 'relay', 'phase1')
    sim = group.spawn_node('physical_sim', 'twin_bridge.ros.physical_sim_node', {
        'joint_states_rate': 100.0, 'odom_rate': 50.0, 'publish_scan': True,
        'world': options.world})
    streams = _streams({'twin': 'virtual/', 'relay': 'relay/'}, ALL_STREAMS, physical=True)
    with ObserverSession(streams, node_name='bench_observer') as obs:
        _wait_flowing(obs, group, list(streams), options.startup_timeout)
        obs.spin_for(2.0)  # settle after discovery
        obs.node.reset()
        pids = {'twin_bridge': twin.pid, 'relay': relay.pid, 'physical_sim': sim.pid}
        before = {name: cpu_and_rss(pid) for name, pid in pids.items()}
        start = time.monotonic()
        obs.spin_for(options.duration)
        elapsed = time.monotonic() - start
        after = {name: cpu_and_rss(pid) for name, pid in pids.items()}
        result = {'streams': {}, 'processes': {}}
        for name in ALL_STREAMS:
            entry = {who: _figures(obs.node.stats(f'{who}/{name}').summary())
                     for who in ('physical', 'twin', 'relay')}
            entry['p99_ratio'] = entry['twin']['p99'] / entry['relay']['p99']
            entry['p50_ratio'] = entry['twin']['p50'] / entry['relay']['p50']
            result['streams'][name] = entry
        for name in pids:
            result['processes'][name] = {
                'cpu_percent': 100.0 * (after[name][0] - before[name][0]) / elapsed,
                'rss_mb': after[name][1] / 2**20}
    for proc in (sim, twin, relay):
        group.stop(proc.name)
    return result


def rate_step(group: ProcessGroup, options: argparse.Namespace, rate: float, who: str) -> dict:
    """joint_states alone at ``rate`` Hz through one consumer (``who``: 'twin' or 'relay').

    Only the stand-in robot, that consumer and this observer run, so the consumer under
    test is the only thing the steps change.
    """
    from twin_bridge.ros.observer import ObserverSession
    consumer = _spawn_consumer(group, options, who, f'{rate:g}Hz')
    sim = group.spawn_node(f'physical_sim_{who}_{rate:g}Hz',
                           'twin_bridge.ros.physical_sim_node',
                           {'joint_states_rate': float(rate), 'odom_rate': 0.0})
    prefix = 'virtual/' if who == 'twin' else 'relay/'
    streams = _streams({who: prefix}, ('joint_states',), physical=False)
    try:
        with ObserverSession(streams, node_name=f'bench_{who}_{int(rate)}',
                             diagnostics_topic=None) as obs:
            _wait_flowing(obs, group, list(streams), options.startup_timeout)
            obs.spin_for(1.0)
            obs.node.reset()
            start = time.time()
            obs.spin_for(options.step)
            end = time.time()
            obs.spin_for(0.3)  # messages published in the window but still in flight
            lat, times = obs.node.stats(f'{who}/joint_states').window()
    finally:
        group.stop(sim.name)
        group.stop(consumer.name)
    # Messages published (stamped) inside the window, wherever they arrived.
    inside = (times - lat >= start) & (times - lat < end)
    lat, times = lat[inside], times[inside]
    slope, growth = lag_trend(lat, times)
    delivered = len(lat) / (rate * (end - start))
    skipped = re.search(r'joint_states=\d+ \(skipped (\d+)\)', sim.output())
    figures = _figures(summarize(lat, times)) if len(lat) else {'count': 0, 'rate_hz': 0.0}
    figures.update(delivered=delivered, slope_ms_per_s=slope, growth_ms=growth,
                   publisher_skipped=int(skipped[1]) if skipped else None,
                   sustained=bool(delivered >= 0.95 and slope < 1.0 and growth < 2.0))
    return figures


def _spawn_consumer(group: ProcessGroup, options: argparse.Namespace, who: str, tag: str):
    if who == 'twin':
        return group.spawn_node(f'twin_bridge_{tag}', 'twin_bridge.ros.bridge_node', {
            'backend': 'embedded', 'world': options.world})
    return group.spawn_node(f'relay_{tag}', 'twin_bridge.ros.relay_node')


def print_report(result: dict) -> None:
    """The benchmark's tables on stdout."""
    p1 = result['phase1']
    rows = []
    for name, e in p1['streams'].items():
        for who in ('physical', 'relay', 'twin'):
            f = e[who]
            rows.append([f'{name} {who}', f['count'], f['rate_hz'], f['p50'], f['p95'],
                         f['p99'], f['max'], e['p99_ratio'] if who == 'twin' else None])
    print(f'\nPhase 1: 100 Hz joint_states + 50 Hz odom + 20 Hz 720-ray scans, '
          f'{result["config"]["duration"]:.0f} s (latency ms; physical = its own transport)')
    print(format_table(['stream', 'n', 'rate Hz', 'p50', 'p95', 'p99', 'max',
                        'twin/relay p99'], rows))
    print('\nNodes at that load (CPU% of one core, RSS):')
    print(format_table(['process', 'CPU %', 'RSS MB'],
                       [[n, v['cpu_percent'], v['rss_mb']]
                        for n, v in p1['processes'].items()]))
    if result['steps']:
        print('\nPhase 2: joint_states alone, stepped up; relay and twin measured one after the '
              'other (sustained = >=95% delivered, latency not growing)')
        rows = []
        for rate, step in result['steps'].items():
            for who in ('relay', 'twin'):
                s = step[who]
                rows.append([f'{rate} Hz {who}', s['delivered'] * 100, s.get('p50'),
                             s.get('p99'), s.get('max'), s['slope_ms_per_s'], s['growth_ms'],
                             s['publisher_skipped'], 'yes' if s['sustained'] else 'NO'])
        print(format_table(['rate', 'delivered %', 'p50', 'p99', 'max', 'trend ms/s',
                            'growth ms', 'pub skipped', 'sustained'], rows))
    v = result['verdict']
    print('\nTargets:')
    for key, value in v.items():
        print(f'  {key}: {value}')


def verdict(result: dict) -> dict:
    """The issue's targets, evaluated."""
    p1 = result['phase1']['streams']
    out = {}
    for name in STATE_STREAMS:
        e = p1[name]
        out[f'{name} twin p99 <= 1.5 x relay p99'] = (
            f'{e["twin"]["p99"]:.3f} vs {e["relay"]["p99"]:.3f} ms (x{e["p99_ratio"]:.2f}): '
            f'{"PASS" if e["p99_ratio"] <= 1.5 else "FAIL"}')
        out[f'{name} twin p50 <= 2 ms'] = (
            f'{e["twin"]["p50"]:.3f} ms: {"PASS" if e["twin"]["p50"] <= 2.0 else "FAIL"} '
            f'(same run: relay p50 {e["relay"]["p50"]:.3f} ms, bare transport to this '
            f'observer p50 {e["physical"]["p50"]:.3f} ms)')
    sustained = [float(r) for r, s in result['steps'].items() if s['twin']['sustained']]
    relay = [float(r) for r, s in result['steps'].items() if s['relay']['sustained']]
    if result['steps']:
        best = max(sustained, default=0.0)
        out['highest sustained joint_states rate'] = (
            f'twin {best:g} Hz, relay {max(relay, default=0.0):g} Hz: '
            f'{"PASS" if best >= 1000 else "FAIL"} (target >= 1000 Hz)')
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print the tables and write the JSON."""
    options = parse_args(argv)
    os.environ.setdefault('ROS_DOMAIN_ID', str(1 + os.getpid() % 100))
    os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
    rates = [float(r) for r in options.rates.split(',') if r.strip()]
    output = options.output or default_report_dir(prefix='bench-latency').with_suffix('.json')
    result = {'config': {**{k: str(v) for k, v in vars(options).items()},
                         'duration': options.duration, 'rates': rates,
                         'ros_domain_id': os.environ['ROS_DOMAIN_ID'],
                         'started': dt.datetime.now().isoformat(timespec='seconds'),
                         'cpus': os.cpu_count(), 'load_avg_before': os.getloadavg()},
              'steps': {}}
    with ProcessGroup() as group:
        print(f'phase 1 ({options.duration:.0f} s) ...', flush=True)
        result['phase1'] = phase_one(group, options)
        for rate in rates:
            print(f'phase 2: {rate:g} Hz ({options.step:.0f} s each for relay and twin) ...',
                  flush=True)
            result['steps'][f'{rate:g}'] = {who: rate_step(group, options, rate, who)
                                            for who in ('relay', 'twin')}
        codes = group.stop_all()
    result['exit_codes'] = codes
    result['verdict'] = verdict(result)
    print_report(result)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(json_safe(result), indent=2) + '\n', encoding='utf-8')
    print(f'\nresults: {output}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
