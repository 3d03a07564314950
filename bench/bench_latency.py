"""End-to-end latency of the twin bridge against a bare rclpy relay, measured in the same run.

Phase 1 (``--rounds`` rounds of three ``--duration`` s runs): the stand-in robot publishes
joint_states at 100 Hz, odom at 50 Hz and 720-ray scans at 20 Hz, consumed by one of: the
twin bridge (embedded backend, scanning at 20 Hz), a bare relay (subscribe + republish) of
the state streams only (it computes no scan), and a bare relay that also forwards the
physical scan. The three run one after the other in every round (interleaved, so slow
drifts of the machine hit all alike). An observer (this process) records receive time minus
header stamp on every output: physical publish → twin/relay publish → observer. Reported
per stream: p50/p95/p99/max of each (median over rounds), the median of the per-round
twin/baseline ratios, and each node's CPU% and RSS (from /proc) at this load.

Phase 2 (``--rates``): joint_states alone stepped up (e.g. 100 → 2000 Hz), ``--step``
seconds each, first through the relay alone, then through the twin alone (only the stand-in
robot, the one consumer and this observer run). A rate is sustained when >= 95 % of the
messages published in the window arrive and latency does not grow over it (slope of a
linear fit < 1 ms/s, median of the last fifth < median of the first fifth + 2 ms). The
relay's steps show what the transport, the publisher and this observer can carry here.

Targets: issue 8, twin p99 <= 1.2 x and p50 <= 1.1 x the state-only relay (median of the
interleaved rounds); issue 4, >= 1 kHz joint_states sustained.
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
import yaml

try:
    import twin_bridge  # noqa: F401 - installed, or run from a source checkout below
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from twin_bridge.core.name_value import parse_name_value_args
from twin_bridge.demo.process_group import ProcessGroup, cpu_and_rss
from twin_bridge.demo.report import default_report_dir, format_table, json_safe
from twin_bridge.twin.latency_stats import LatencySummary, summarize

STATE_STREAMS = ('joint_states', 'odom')
ALL_STREAMS = ('joint_states', 'odom', 'scan')


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--duration', type=float, default=10.0,
                        help='seconds per phase 1 run (100 Hz joints, 50 Hz odom, 20 Hz scans)')
    parser.add_argument('--rounds', type=int, default=3,
                        help='phase 1 rounds; each runs the twin, the state-only relay and '
                             'the full relay one after the other')
    parser.add_argument('--rates', default='100,250,500,1000,2000',
                        help='joint_states rates (Hz) for phase 2, comma separated; '
                             '"" skips phase 2')
    parser.add_argument('--step', type=float, default=6.0,
                        help='seconds measured per rate step')
    parser.add_argument('--world', default='warehouse', help='world of the twin')
    parser.add_argument('--twin-param', action='append', default=[], metavar='NAME:=VALUE',
                        help='a twin_bridge parameter (repeatable; values read as YAML), '
                             'e.g. drift_check:=false to measure mirroring and scans alone')
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


#: Phase 1 consumers: the twin and two baselines, measured one after the other per round.
PHASE1_CONSUMERS = {
    # who: (output prefix, streams it publishes)
    'twin': ('virtual/', ALL_STREAMS),
    'relay_state': ('relay/', STATE_STREAMS),   # forwards joint_states + odom, no scan work
    'relay_full': ('relay/', ALL_STREAMS),      # also forwards the physical 720-beam scan
}


def phase_one_run(group: ProcessGroup, options: argparse.Namespace, who: str,
                  tag: str) -> dict:
    """One consumer alone behind the stand-in robot at 100/50/20 Hz: latency, CPU, RSS."""
    from twin_bridge.ros.observer import ObserverSession
    prefix, names = PHASE1_CONSUMERS[who]
    consumer = _spawn_consumer(group, options, who, tag)
    sim = group.spawn_node(f'physical_sim_{tag}', 'twin_bridge.ros.physical_sim_node', {
        'joint_states_rate': 100.0, 'odom_rate': 50.0, 'publish_scan': True,
        'world': options.world})
    streams = _streams({who: prefix}, names, physical=True)
    try:
        with ObserverSession(streams, node_name=f'bench_observer_{tag}',
                             diagnostics_topic=None) as obs:
            _wait_flowing(obs, group, list(streams), options.startup_timeout)
            obs.spin_for(2.0)  # settle after discovery
            obs.node.reset()
            pids = {who: consumer.pid, 'physical_sim': sim.pid}
            before = {name: cpu_and_rss(pid) for name, pid in pids.items()}
            start = time.monotonic()
            obs.spin_for(options.duration)
            elapsed = time.monotonic() - start
            after = {name: cpu_and_rss(pid) for name, pid in pids.items()}
            result = {'streams': {}, 'processes': {}}
            for name in names:
                result['streams'][name] = {
                    'consumer': _figures(obs.node.stats(f'{who}/{name}').summary()),
                    'physical': _figures(obs.node.stats(f'physical/{name}').summary())}
            for name in pids:
                result['processes'][name] = {
                    'cpu_percent': 100.0 * (after[name][0] - before[name][0]) / elapsed,
                    'rss_mb': after[name][1] / 2**20}
    finally:
        group.stop(sim.name)
        group.stop(consumer.name)
    return result


def phase_one(group: ProcessGroup, options: argparse.Namespace) -> dict:
    """``--rounds`` interleaved rounds of twin, state-only relay and full relay; per round
    and stream the twin/baseline ratios of p50 and p99; the medians over rounds."""
    rounds = []
    for index in range(options.rounds):
        print(f'  round {index + 1}/{options.rounds}: ' + ', '.join(PHASE1_CONSUMERS),
              flush=True)
        rounds.append({who: phase_one_run(group, options, who, f'{who}_r{index}')
                       for who in PHASE1_CONSUMERS})
    summary = {}
    for name in ALL_STREAMS:
        entry = {}
        for who in PHASE1_CONSUMERS:
            runs = [r[who]['streams'][name]['consumer'] for r in rounds
                    if name in r[who]['streams']]
            if runs:
                entry[who] = {key: float(np.median([run[key] for run in runs]))
                              for key in ('count', 'rate_hz', 'p50', 'p95', 'p99', 'max')}
        entry['physical'] = {key: float(np.median(
            [r['twin']['streams'][name]['physical'][key] for r in rounds]))
            for key in ('p50', 'p99')}
        for base in ('relay_state', 'relay_full'):
            if base not in entry:
                continue
            for pct in ('p50', 'p99'):
                ratios = [r['twin']['streams'][name]['consumer'][pct]
                          / r[base]['streams'][name]['consumer'][pct] for r in rounds]
                entry[f'{pct}_ratio_{base}'] = float(np.median(ratios))
                entry[f'{pct}_ratios_{base}'] = ratios
        summary[name] = entry
    processes = {who: {key: float(np.median([r[who]['processes'][who][key] for r in rounds]))
                       for key in ('cpu_percent', 'rss_mb')} for who in PHASE1_CONSUMERS}
    processes['physical_sim'] = {key: float(np.median(
        [r['twin']['processes']['physical_sim'][key] for r in rounds]))
        for key in ('cpu_percent', 'rss_mb')}
    return {'streams': summary, 'processes': processes, 'rounds': rounds}


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


def twin_params(options: argparse.Namespace) -> dict:
    """``--twin-param`` values, typed as YAML reads them."""
    items = parse_name_value_args(options.twin_param, '--twin-param')
    return {name: yaml.safe_load(value) for name, value in items.items()}


def _spawn_consumer(group: ProcessGroup, options: argparse.Namespace, who: str, tag: str):
    if who == 'twin':
        return group.spawn_node(f'twin_bridge_{tag}', 'twin_bridge.ros.bridge_node', {
            'backend': 'embedded', 'world': options.world, **twin_params(options)})
    streams = PHASE1_CONSUMERS.get(who, ('', ALL_STREAMS))[1]
    return group.spawn_node(f'relay_{tag}', 'twin_bridge.ros.relay_node',
                            {'streams': list(streams)})


def print_report(result: dict) -> None:
    """The benchmark's tables on stdout."""
    p1 = result['phase1']
    rows = []
    for name, e in p1['streams'].items():
        for who in ('relay_state', 'relay_full', 'twin'):
            if who not in e:
                continue
            f = e[who]
            ratios = ([e.get(f'p50_ratio_{b}'), e.get(f'p99_ratio_{b}')]
                      for b in ('relay_state', 'relay_full'))
            rows.append([f'{name} {who}', f['count'], f['rate_hz'], f['p50'], f['p95'],
                         f['p99'], f['max'],
                         *([v for pair in ratios for v in pair] if who == 'twin'
                           else [None] * 4)])
        rows.append([f'{name} physical transport', None, None, e['physical']['p50'], None,
                     e['physical']['p99'], None, None, None, None, None])
    print(f'\nPhase 1: 100 Hz joint_states + 50 Hz odom + 20 Hz 720-ray scans, '
          f'{result["config"]["duration"]:.0f} s per run, consumers one at a time, '
          f'{result["config"]["rounds"]} interleaved rounds (latency ms, medians over rounds; '
          'ratios: median of the per-round twin/baseline ratios)')
    print(format_table(['stream', 'n', 'rate Hz', 'p50', 'p95', 'p99', 'max',
                        'p50 /state', 'p99 /state', 'p50 /full', 'p99 /full'], rows))
    print('\nNodes at that load (CPU% of one core, RSS; medians over rounds):')
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
    """The issues' targets, evaluated (issue 8: against the state-only relay)."""
    p1 = result['phase1']['streams']
    out = {}
    for name in STATE_STREAMS:
        e = p1[name]
        for pct, limit in (('p99', 1.2), ('p50', 1.1)):
            ratio = e[f'{pct}_ratio_relay_state']
            out[f'{name} twin {pct} <= {limit} x state-only relay {pct}'] = (
                f'{e["twin"][pct]:.3f} vs {e["relay_state"][pct]:.3f} ms, median ratio '
                f'x{ratio:.2f} (rounds: '
                + ', '.join(f'{r:.2f}' for r in e[f'{pct}_ratios_relay_state'])
                + f'): {"PASS" if ratio <= limit else "FAIL"}')
        out[f'{name} twin p99 vs full relay (also forwards the physical scan)'] = (
            f'x{e["p99_ratio_relay_full"]:.2f}')
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
        print(f'phase 1 ({options.rounds} rounds x 3 runs x {options.duration:.0f} s) ...',
              flush=True)
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
