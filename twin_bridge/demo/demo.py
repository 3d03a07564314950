"""The main job: a stand-in robot and its embedded twin over DDS, measured and reported."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
import datetime as dt
import os
from pathlib import Path
import signal
import sys
import time
from typing import Any, TextIO

import numpy as np

from twin_bridge.core.name_value import parse_name_value_args
from twin_bridge.demo.collect import STREAMS, clock_problems, collect, fill_rejections
from twin_bridge.demo.console import Progress, SafeStream, rate_text
from twin_bridge.demo.drift_record import (
    FAULT_DIAGNOSTICS_PERIOD_S,
    analysis_topics,
    collect_drift,
)
from twin_bridge.demo.drift_view import drift_progress, drift_table
from twin_bridge.demo.fleet_demo import check_fleet_options, run_fleet
from twin_bridge.demo.mqtt_demo import check_mqtt_options, mqtt_robot_line, start_mqtt_robot
from twin_bridge.demo.process_group import ProcessGroup
from twin_bridge.demo.report import (
    default_report_dir,
    demo_document,
    stream_table,
    stream_table_notes,
    write_report,
)
from twin_bridge.demo.stop_signals import Stopped, StopSignals
from twin_bridge.errors import ConfigError
from twin_bridge.stand_in.faults import parse_faults
from twin_bridge.stand_in.motion_profiles import MAX_RATE_HZ, MOTIONS

__all__ = ['build_parser', 'choose_domain_id', 'main', 'parse_bridge_params', 'run']

# The names test_demo (and earlier callers) import from here; the classes live in stop_signals.
_Stopped, _StopSignals = Stopped, StopSignals

EXIT_OK, EXIT_FAILED = 0, 1

#: Lowest stand-in robot rate (Hz) the demo accepts (the highest is the robot's own limit).
MIN_RATE_HZ = 10.0

#: Seconds the streams flow before measuring, so the start-up backlog is not measured.
WARMUP_S = 0.5
#: With faults, measuring goes on until this long after the last onset (s), so a slow
#: start-up never ends the run before a fault could be seen.
FAULT_SETTLE_S = 2.5


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows ``(default: ...)`` only for options whose default is a value (not ``None``)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None:
            return action.help
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    """The ``twin_demo`` command line."""
    parser = argparse.ArgumentParser(
        prog='twin_demo',
        formatter_class=_HelpFormatter,
        description=(
            'Run a digital twin end to end over real ROS 2 DDS: a stand-in physical robot '
            '(physical_sim: scripted joint_states + odom) and the twin bridge (embedded MuJoCo '
            'backend, publishing virtual/joint_states, virtual/odom, virtual/scan) run as '
            'separate processes; this process observes every stream for --duration seconds, '
            'prints a table (messages in/out, rate, end-to-end latency p50/p95/p99/max, '
            'rejected inputs) and writes report.json + report.png. Latency = receive time - '
            'header stamp (the twin stamps outputs with the physical sample they reflect). '
            'Exit status: 0 ok, 1 the twin published nothing or a process failed; stopped '
            'by a signal: 130 (SIGINT, Ctrl-C), 143 (SIGTERM), 129 (SIGHUP, terminal '
            'closed) - the nodes are stopped and the report is still written. The nodes '
            'also get SIGTERM if this process is killed (Linux).'))
    parser.add_argument('--duration', type=float, default=10.0,
                        help='seconds to measure, counted from when every twin stream flows '
                             f'(plus a {WARMUP_S:g} s warm-up that is not measured); with '
                             f'--fault at least until {FAULT_SETTLE_S:g} s after the last '
                             'onset')
    parser.add_argument('--world', default='warehouse',
                        help='world of the twin: a shipped world name (empty, warehouse, '
                             'obstacle_course) or an SDF path')
    parser.add_argument('--rate', type=float, default=100.0,
                        help='joint_states rate of the stand-in robot in Hz '
                             f'({MIN_RATE_HZ:g}..{MAX_RATE_HZ:g})')
    parser.add_argument('--odom-rate', type=float, default=50.0,
                        help='odom rate of the stand-in robot in Hz '
                             f'({MIN_RATE_HZ:g}..{MAX_RATE_HZ:g})')
    parser.add_argument('--motion', choices=MOTIONS, default='figure_eight',
                        help='scripted motion of the stand-in robot')
    parser.add_argument('--speed', type=float, default=0.3,
                        help='figure-eight speed in m/s')
    parser.add_argument('--noise', type=float, default=0.0,
                        help='Gaussian noise (m, rad) on the stand-in robot\'s positions')
    parser.add_argument('--seed', type=int, default=0, help='seed for all noise')
    parser.add_argument('--view', action='store_true',
                        help='serve the twin as a live 3D view: open Foxglove and connect to '
                             'ws://localhost:8765 (the port: --bridge-param viewer_port:=N)')
    parser.add_argument('--physical-scan', action='store_true',
                        help='the stand-in robot also publishes its own scan (from a second '
                             'embedded world), to compare with virtual/scan')
    parser.add_argument('--fault', action='append', default=[], metavar='SPEC',
                        help='inject a fault into the stand-in robot (repeatable; its scan is '
                             'published then), e.g. lidar_yaw:deg=2,at=5 (physical_sim --help)')
    parser.add_argument('--mqtt', action='store_true',
                        help='the stand-in robot speaks MQTT, not ROS: a mosquitto broker with '
                             'a password on a free loopback port, the robot publishing JSON, '
                             'twin_mqtt turning it into ROS topics for the twin and the twin\'s '
                             'virtual/* back into JSON (README "Robots over MQTT")')
    parser.add_argument('--robots', type=int, default=1,
                        help='N > 1: N stand-in robots, each in its namespace (/robot1 ...), '
                             'and one fleet twin (twin_fleet) mirroring all of them in one '
                             'world where they see each other (README "A twin of the fleet")')
    parser.add_argument('--output', type=Path, default=None,
                        help='report directory; if omitted, reports/demo-<timestamp>/')
    parser.add_argument('--live', action='store_true',
                        help='run only the bridge against a real robot\'s topics (see '
                             '--joint-states-topic, --odom-topic); the robot must stamp with '
                             'synchronised wall-clock time: latencies are measured against it and '
                             'messages stamped before the measurement starts are not counted')
    parser.add_argument('--joint-states-topic', default='joint_states',
                        help='physical joint states topic (the bridge\'s input)')
    parser.add_argument('--odom-topic', default='odom',
                        help='physical odometry topic (the bridge\'s input)')
    parser.add_argument('--domain-id', type=int, default=None,
                        help='ROS_DOMAIN_ID for everything; default: $ROS_DOMAIN_ID if set, '
                             'else (not --live) a per-run id derived from the process id so '
                             'demos do not cross-talk')
    parser.add_argument('--bridge-param', action='append', default=[], metavar='NAME:=VALUE',
                        help='extra twin_bridge node parameter (repeatable), e.g. '
                             'scan_rate:=10.0')
    parser.add_argument('--startup-timeout', type=float, default=60.0,
                        help='seconds to wait for every twin stream to start')
    return parser


def choose_domain_id(requested: int | None, environ: Mapping[str, str], live: bool,
                     pid: int) -> str | None:
    """The ROS_DOMAIN_ID to set, or ``None`` to keep the environment's.

    An explicit request wins; a user's ``ROS_DOMAIN_ID`` is kept; a live run keeps the
    default domain (the robot's); otherwise a per-run id in 1..100 from ``pid``.

    :raise ValueError: a requested id outside 0..101 (the range ROS 2 documents as safe)
    """
    if requested is not None:
        if not 0 <= requested <= 101:
            raise ValueError(f'--domain-id must be within 0..101, got {requested}')
        return str(requested)
    if 'ROS_DOMAIN_ID' in environ or live:
        return None
    return str(1 + pid % 100)


def parse_bridge_params(items: Sequence[str]) -> dict[str, Any]:
    """``NAME:=VALUE`` strings as a parameter dict (values in YAML syntax, as with ``-p``).

    :raise ConfigError: naming the bad item (see :mod:`twin_bridge.core.name_value`)
    """
    import yaml
    params = {}
    for name, value in parse_name_value_args(items, '--bridge-param').items():
        try:
            params[name] = yaml.safe_load(value)
        except yaml.YAMLError as exc:
            raise ConfigError(f'--bridge-param {name}:={value}: not a YAML value: '
                              f'{str(exc).splitlines()[0]}') from None
    return params


def _progress_text(node: Any, elapsed: float, duration: float) -> str:
    """The progress line: time, then count, rate and median latency of every twin stream,
    then the drift verdicts (when the twin checks drift)."""
    parts = [f'{elapsed:5.1f}/{duration:.0f} s']
    for name, (out_label, _) in STREAMS.items():
        count = node.count(out_label)
        lat, _ = node.stats(out_label).window()
        p50 = f'{np.median(lat[-500:]) * 1e3:.2f} ms' if len(lat) else '-'
        parts.append(f'{name} {count} ({rate_text(count, elapsed)}, p50 {p50})')
    drift = drift_progress(getattr(node, 'diagnostics', {}))
    return ' | '.join(parts + ([drift] if drift else []))


def _node_params(options: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    """Parameters of the stand-in robot and of the twin bridge node."""
    sim = {
        'joint_states_rate': float(options.rate), 'odom_rate': float(options.odom_rate),
        'motion': options.motion, 'speed': float(options.speed), 'faults': options.fault or [''],
        'noise_stddev': float(options.noise), 'seed': int(options.seed),
        'publish_scan': bool(options.physical_scan or options.fault), 'world': options.world,
        'joint_states_topic': options.joint_states_topic, 'odom_topic': options.odom_topic}
    bridge = {
        'backend': 'embedded', 'world': options.world,
        **({'diagnostics_period': FAULT_DIAGNOSTICS_PERIOD_S} if options.fault else {}),
        **({'viewer': True} if options.view else {}),
        'input_joint_states_topic': options.joint_states_topic,
        'input_odom_topic': options.odom_topic,
        **parse_bridge_params(options.bridge_param)}
    return sim, bridge


def _measure(obs: Any, group: ProcessGroup, options: argparse.Namespace,
             progress: Progress, timing: dict[str, float],
             stop: StopSignals, last_onset: float | None = None) -> tuple[float, list[str]]:
    """Wait until every stream flows, then record for ``options.duration`` seconds (and,
    with ``last_onset``, the latest fault's ``at``, until :data:`FAULT_SETTLE_S` after it,
    counted from the stand-in's first odometry).

    ``timing['start']`` is set (monotonic s) when measuring starts, so an interrupted run
    still knows how long it measured.

    :return: seconds measured and problems found (:class:`Stopped` propagates)
    """
    node = obs.node
    waiting = [label for label in node.streams if label != 'physical/scan']
    progress.show('waiting for every stream to start (the twin loads its world first)...')
    first_physical: list[float] = []

    def ready() -> bool:
        if not first_physical and node.count('physical/odom'):
            first_physical.append(time.monotonic())  # the stand-in's clock starts about here
        return all(node.count(s) for s in waiting)

    flowing = obs.spin_until(ready, options.startup_timeout,
                             abort=lambda: stop.requested or bool(group.dead()))
    stop.check()
    progress.done()
    if not flowing:
        if group.dead():  # that process's own error says why; reported with its output
            return 0.0, []
        silent = [node.streams[s].topic for s in waiting if not node.count(s)]
        return 0.0, [f'no messages on {", ".join(silent)} within '
                     f'{options.startup_timeout:.0f} s']
    obs.spin_until(lambda: stop.requested, WARMUP_S)
    stop.check()
    # Measure only samples stamped from now on: outputs of earlier inputs (and the start-up
    # backlog) would count outputs without their inputs and inflate the latency tail.
    node.reset(stamped_from_ns=(start_ns := time.time_ns()))
    timing['start_wall'] = start_ns * 1e-9
    start = timing['start'] = time.monotonic()
    duration = options.duration
    if last_onset is not None and first_physical:
        duration = max(duration, first_physical[0] + last_onset + FAULT_SETTLE_S - start)
    while (measured := time.monotonic() - start) < duration and not group.dead():
        stop.check()
        obs.spin_once(0.05)
        if progress.due():
            progress.show(_progress_text(node, measured, duration))
    node.end_measurement()
    progress.show(_progress_text(node, measured, duration))
    progress.done()
    return measured, []


def _process_problems(group: ProcessGroup) -> tuple[dict[str, dict], list[str], set[str]]:
    """Stop every child; describe each one that died early or did not exit with 0.

    :return: per-process facts, problems, names of the children that died early
    """
    problems = [f'{p.name} exited early with code {p.returncode}; last output:\n{p.tail()}'
                for p in group.dead()]
    early = {p.name for p in group.dead()}
    codes = group.stop_all()
    problems += [f'{name} exited with code {code} when stopped; last output:\n'
                 f'{group.processes[name].tail()}'
                 for name, code in codes.items() if code != 0 and name not in early]
    processes = {name: {'pid': p.pid, 'exit_code': codes.get(name), 'log': str(p.log_path)}
                 for name, p in group.processes.items()}
    return processes, problems, early


def run(options: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Run the demo described by parsed ``options``; return the exit status (128 + signal
    number when SIGINT, SIGTERM or SIGHUP stopped it)."""
    out, err = SafeStream(out), SafeStream(err)
    domain = choose_domain_id(options.domain_id, os.environ, options.live, os.getpid())
    if domain is not None:
        os.environ['ROS_DOMAIN_ID'] = domain
    if not options.live:
        os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
    sim_params, bridge_params = _node_params(options)
    faults = [] if options.live else parse_faults(options.fault, what='--fault')
    output = Path(options.output) if options.output else default_report_dir()
    config = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(options).items()}
    config.update(ros_domain_id=os.environ.get('ROS_DOMAIN_ID', '0'), output=str(output))

    from twin_bridge.ros.observer import ObserverSession, standard_streams  # needs rclpy

    streams = standard_streams(options.joint_states_topic, options.odom_topic,
                               physical_scan=options.physical_scan and not options.live)
    problems: list[str] = []
    interrupted, measured, started = False, 0.0, dt.datetime.now()
    progress = Progress(out)
    timing: dict[str, float] = {}
    with StopSignals() as stop:
        try:
            with ProcessGroup(output / 'logs') as group:
                if options.mqtt:
                    out.write(f'twin_demo: {start_mqtt_robot(group, options)}\n')
                elif not options.live:
                    group.spawn_node('physical_sim', 'twin_bridge.ros.physical_sim_node',
                                     sim_params)
                bridge = group.spawn_node('twin_bridge', 'twin_bridge.ros.bridge_node',
                                          bridge_params)
                out.write(f'twin_demo: ROS_DOMAIN_ID={config["ros_domain_id"]}, world '
                          f'{options.world!r}, logs in {group.log_dir}\n')
                out.flush()
                timing['start_wall'] = time.time()  # until measuring starts
                with ObserverSession(streams, node_name=f'twin_demo_observer_{os.getpid()}',
                                     **analysis_topics(bridge_params)) as obs:
                    try:
                        measured, problems = _measure(
                            obs, group, options, progress, timing, stop,
                            max((f.at for f in faults), default=None))
                        stop.quiet()  # never cut the clean-up short
                    except KeyboardInterrupt:
                        stop.quiet()
                        progress.done()
                        interrupted = True
                        if 'start' in timing:
                            measured = time.monotonic() - timing['start']
                        obs.node.end_measurement()
                        name = signal.Signals(stop.signum or signal.SIGINT).name
                        out.write(f'twin_demo: {name}: stopping the nodes and writing the '
                                  'report\n')
                        out.flush()
                    obs.spin_for(0.2)  # in-flight messages and the latest diagnostics
                    figures, trajectories, diagnostics = collect(obs.node)
                    sim = group.processes.get('physical_sim')
                    drift = collect_drift(obs.node, faults, sim.output() if sim else '',
                                          timing['start_wall'], trajectories['virtual/odom'],
                                          options.speed if options.motion == 'figure_eight'
                                          else None)
                processes, process_problems, died = _process_problems(group)
                problems += process_problems
        except KeyboardInterrupt:
            err.write('twin_demo: interrupted before the report could be written\n')
            return 128 + (stop.signum or signal.SIGINT)
        stop.quiet()  # a signal from now on only sets the exit status
        fill_rejections(figures, bridge.output())
        if not interrupted and not died:  # otherwise the stop or the failure says it all
            for f in figures:
                if f.messages_out == 0 and not any('no messages' in p for p in problems):
                    problems.append(f'the twin published nothing on {STREAMS[f.name][0]}')
            problems += clock_problems(obs.node, measured)
        silent = any('no messages' in p or 'nothing' in p for p in problems)
        if silent and not any(p.startswith('twin_bridge') for p in problems):
            problems.append(f'twin_bridge output (last lines):\n{bridge.tail()}')
        document = demo_document(
            config=config, streams=figures, trajectories=trajectories, started=started,
            duration_s=measured, processes=processes, diagnostics=diagnostics,
            problems=problems)
        document['interrupted'] = interrupted
        document['stop_signal'] = signal.Signals(stop.signum).name if stop.signum else None
        document['drift'] = drift.summary if drift.checked else None
        json_path, png_path = write_report(output, document, figures, trajectories,
                                           title=f'twin_bridge demo: world {options.world!r}, '
                                                 f'{measured:.1f} s', drift=drift)
        out.write(stream_table(figures) + '\n')
        for note in stream_table_notes(figures):
            out.write(note + '\n')
        if drift.checked:
            out.write('\n' + drift_table(drift.summary) + '\n\n')
        tracking = document['tracking']
        if tracking.get('matched'):
            out.write(f'twin vs physical odometry (matched by stamp, {tracking["matched"]} '
                      f'poses): mean {tracking["mean_error_m"] * 1e3:.3f} mm, max '
                      f'{tracking["max_error_m"] * 1e3:.3f} mm\n')
        out.write(f'report: {json_path}' + (f', {png_path}' if png_path else '') + '\n')
        out.flush()
        if options.mqtt and mqtt_robot_line(group):
            out.write(f'{mqtt_robot_line(group)}\n')
        for problem in problems:
            err.write(f'twin_demo: {problem}\n')
        err.flush()
        if stop.signum is not None:
            return 128 + stop.signum
    return EXIT_FAILED if problems else EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point ``twin_demo``."""
    parser = build_parser()
    options = parser.parse_args(argv)
    if options.duration <= 0:
        parser.error('--duration must be > 0')
    for flag, rate in (('--rate', options.rate), ('--odom-rate', options.odom_rate)):
        if not MIN_RATE_HZ <= rate <= MAX_RATE_HZ:
            parser.error(f'{flag} must be within {MIN_RATE_HZ:g}..{MAX_RATE_HZ:g} Hz, '
                         f'got {rate}')
    try:  # validate everything that can be wrong before any process starts
        choose_domain_id(options.domain_id, os.environ, options.live, os.getpid())
        parse_bridge_params(options.bridge_param)
        parse_faults(options.fault, what='--fault')
        check_mqtt_options(options)
        check_fleet_options(options)
    except (ValueError, ConfigError) as exc:
        parser.error(str(exc))
    return run_fleet(options) if options.robots > 1 else run(options)


if __name__ == '__main__':
    sys.exit(main())
