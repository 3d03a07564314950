"""``twin_demo --robots N``: N stand-in robots, each in its namespace, and one fleet twin."""

from __future__ import annotations

import argparse
import json
import math
import os
from pathlib import Path
import sys
import time
from typing import TextIO

import numpy as np

from twin_bridge.demo.console import Progress, SafeStream
from twin_bridge.demo.process_group import ProcessGroup
from twin_bridge.demo.report import default_report_dir, format_table
from twin_bridge.demo.stop_signals import StopSignals
from twin_bridge.errors import ConfigError

__all__ = ['MAX_ROBOTS', 'check_fleet_options', 'fleet_layout', 'run_fleet', 'write_fleet_file']

#: The most stand-in robots the demo starts (each is a process of its own).
MAX_ROBOTS = 40
#: Stand-in figure-eight speed (m/s): the figure spans about 1.1 m x 3 m.
SPEED = 0.2
#: Grid spacing of the robots' start poses (m): their figures never meet.
SPACING_X, SPACING_Y = 2.5, 4.5
STREAMS = ('joint_states', 'odom', 'scan')


def check_fleet_options(options: argparse.Namespace) -> None:
    """:raise ConfigError: ``--robots`` out of range or with an option it cannot serve"""
    if not 1 <= options.robots <= MAX_ROBOTS:
        raise ConfigError(f'--robots must be within 1..{MAX_ROBOTS}, got {options.robots}')
    if options.robots == 1:
        return
    clashes = [flag for flag, on in (
        ('--live', options.live), ('--fault', options.fault), ('--mqtt', options.mqtt),
        ('--view', options.view), ('--physical-scan', options.physical_scan)) if on]
    if clashes:
        raise ConfigError(f'--robots {options.robots} cannot be combined with '
                          f'{", ".join(clashes)}')


def fleet_layout(count: int) -> list[tuple[str, float, float]]:
    """``(namespace, x, y)`` of ``count`` robots on a grid centred on the origin."""
    columns = max(1, math.ceil(math.sqrt(count)))
    rows = math.ceil(count / columns)
    return [(f'robot{k + 1}', (k % columns - (columns - 1) / 2) * SPACING_X,
             (k // columns - (rows - 1) / 2) * SPACING_Y) for k in range(count)]


def write_fleet_file(path: Path, world: str, count: int) -> Path:
    """The demo's fleet file: the package robot ``count`` times on :func:`fleet_layout`."""
    import yaml
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({'world': world, 'robots': [
        {'namespace': ns, 'pose': {'x': x, 'y': y}} for ns, x, y in fleet_layout(count)]}))
    return path


def run_fleet(options: argparse.Namespace, out: TextIO = sys.stdout,
              err: TextIO = sys.stderr) -> int:
    """Run the fleet demo; print a per-robot table, write ``report.json``; exit status 0, or
    1 when a robot's twin published nothing or a process failed (130/143 on a signal)."""
    out, err = SafeStream(out), SafeStream(err)
    os.environ.setdefault('ROS_DOMAIN_ID', str(1 + os.getpid() % 100))
    os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
    output = Path(options.output) if options.output else default_report_dir(prefix='fleet')
    layout = fleet_layout(options.robots)
    fleet_file = write_fleet_file(output / 'fleet.yaml', options.world, options.robots)
    from twin_bridge.ros.observer import ObservedStream, ObserverSession, standard_streams
    base = standard_streams()
    streams = {f'{ns}/{s}': ObservedStream(f'/{ns}/virtual/{s}', base[f'virtual/{s}'].msg_type,
                                           base[f'virtual/{s}'].qos)
               for ns, _, _ in layout for s in STREAMS}
    problems: list[str] = []
    progress = Progress(out)
    with StopSignals() as stop, ProcessGroup(output / 'logs') as group:
        try:
            for k, (ns, _, _) in enumerate(layout):
                group.spawn_node(f'physical_sim_{ns}', 'twin_bridge.ros.physical_sim_node', {
                    'joint_states_rate': float(options.rate),
                    'odom_rate': float(options.odom_rate), 'motion': options.motion,
                    'speed': SPEED, 'seed': int(options.seed) + k},
                    ros_args=['-r', f'__ns:=/{ns}'])
            twin = group.spawn_node('twin_fleet', 'twin_bridge.ros.fleet_node', {
                'fleet_file': str(fleet_file)})
            out.write(f'twin_demo: {options.robots} robots in world {options.world!r} '
                      f'(fleet file {fleet_file}), ROS_DOMAIN_ID={os.environ["ROS_DOMAIN_ID"]}'
                      f', logs in {group.log_dir}\n')
            with ObserverSession(streams, node_name=f'fleet_demo_{os.getpid()}',
                                 diagnostics_topic=None) as obs:
                progress.show('waiting for every robot\'s twin to publish...')
                flowing = obs.spin_until(lambda: all(obs.node.count(s) for s in streams),
                                         options.startup_timeout,
                                         abort=lambda: stop.requested or bool(group.dead()))
                progress.done()
                stop.check()
                if not flowing:
                    silent = [streams[s].topic for s in streams if not obs.node.count(s)]
                    problems.append(f'no messages on {", ".join(silent[:6])} within '
                                    f'{options.startup_timeout:.0f} s')
                else:
                    obs.node.reset(stamped_from_ns=time.time_ns())
                    start = time.monotonic()
                    while (elapsed := time.monotonic() - start) < options.duration:
                        stop.check()
                        obs.spin_once(0.05)
                        if progress.due():
                            total = sum(obs.node.count(s) for s in streams)
                            progress.show(f'{elapsed:5.1f}/{options.duration:.0f} s: '
                                          f'{total} twin messages from {options.robots} robots')
                    progress.done()
                rows, figures = _figures(obs.node, layout, max(time.monotonic() - start, 1e-9)
                                         if flowing else 0.0)
        except KeyboardInterrupt:
            err.write('twin_demo: interrupted\n')
            return 128 + (stop.signum or 2)
        dead = [p for p in group.dead()]
        codes = group.stop_all()
        problems += [f'{p.name} exited early with code {p.returncode}:\n{p.tail()}' for p in dead]
        problems += [f'{name} exited with code {code} when stopped'
                     for name, code in codes.items() if code != 0 and name not in
                     {p.name for p in dead}]
    if flowing:
        problems += [f'{ns}: the twin published nothing on /{ns}/virtual/{s}'
                     for ns, by in figures.items() for s, f in by.items() if not f['count']]
    out.write(format_table(['robot / stream', 'n', 'rate Hz', 'p50 ms', 'p99 ms', 'max ms'],
                           rows) + '\n')
    output.mkdir(parents=True, exist_ok=True)
    (output / 'report.json').write_text(json.dumps(
        {'robots': options.robots, 'world': options.world, 'fleet_file': str(fleet_file),
         'streams': figures, 'problems': problems, 'twin_log': str(twin.log_path)},
        indent=1))
    out.write(f'report: {output / "report.json"}\n')
    for problem in problems:
        err.write(f'twin_demo: {problem}\n')
    return 1 if problems else 0


def _figures(node: object, layout: list[tuple[str, float, float]],
             elapsed: float) -> tuple[list[list[object]], dict[str, dict[str, dict]]]:
    rows, figures = [], {}
    for ns, _, _ in layout:
        figures[ns] = {}
        for s in STREAMS:
            lat, _ = node.stats(f'{ns}/{s}').window()
            lat = np.asarray(lat) * 1e3
            f = {'count': int(len(lat)), 'rate_hz': len(lat) / elapsed if elapsed else 0.0,
                 'p50_ms': float(np.percentile(lat, 50)) if len(lat) else None,
                 'p99_ms': float(np.percentile(lat, 99)) if len(lat) else None,
                 'max_ms': float(lat.max()) if len(lat) else None}
            figures[ns][s] = f
            rows.append([f'{ns} virtual/{s}', f['count'], f['rate_hz'], f['p50_ms'],
                         f['p99_ms'], f['max_ms']])
    return rows, figures
