"""Drift-check benchmark: seeded fault runs in the warehouse, false alarms in every world,
and the cost of one drift check against the bare cast of the same beams (same run).

    .venv/bin/python bench/bench_drift.py [--runs 20] [--minutes 10] [--rates 10 20]
        [--false-alarm-rate 1e-7] [--only pose world ...] [--skip-false-alarms]

Faults are injected through the embedded backend (test/drift_fixtures.py): the 'physical'
scan is cast at the true pose (1 cm noise) in the 'physical' world, the twin mirrors
odometry; wheel encoders have 4096 ticks per turn plus 0.5 mrad noise. Every run starts at a
random pose whose whole arc keeps the lidar 0.45 m clear (bench/drift_scenarios.py); the
fault comes at t = 1 s. Sizes (random direction or sign per run): pose 5 cm / 2 deg, a random
movable obstacle moved 0.3 m (visible, and its move changing >= 10 beams, at the fault),
lidar yaw 2 deg, range bias 3 cm, range scale 1 %, wheel slip 10 %.

*detected*: the fault's cause reached ERROR within the target delay; *named*: it did and no
other cause reached ERROR in the run. World location: the distance from the reported centre
to the union of the obstacle's old and new footprints (0 inside); where it appeared (physical
endpoints of the beams that now stop short) to its new footprint (NaN when nothing
appeared: it moved away from the lidar); and the centre's distance to its true new centre.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
import sys
import time

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / 'test'), str(ROOT / 'bench')]

from drift_fixtures import S, Twin, arc, drive, scan_data  # noqa: E402
import drift_scenarios as scenarios  # noqa: E402

from twin_bridge.core.state import OdometrySample  # noqa: E402
from twin_bridge.core.transforms import quat_from_rpy  # noqa: E402
from twin_bridge.twin.drift.monitor import DriftMonitor  # noqa: E402

FAULTS = ('pose', 'world', 'lidar', 'range_bias', 'range_scale', 'wheels')
CAUSE = {'pose': 'pose', 'world': 'world', 'lidar': 'lidar', 'range_bias': 'lidar',
         'range_scale': 'lidar', 'wheels': 'wheels'}
TARGET_DELAY = {'pose': 0.5, 'world': 1.0, 'lidar': 2.0, 'range_bias': 2.0,
                'range_scale': 2.0, 'wheels': 1.0}
TARGET_ERROR = {'pose': '1 cm / 0.3 deg', 'world': '10 cm', 'lidar': '0.2 deg',
                'range_bias': '5 mm', 'range_scale': '0.2 %', 'wheels': '2 %'}
UNITS = {'pose': 'm, deg', 'lidar': 'deg',
         'world': 'm: centre-footprints, appeared-new, centre-new centre',
         'range_bias': 'm', 'range_scale': '%', 'wheels': 'slip'}
ENCODERS = {'encoder_ticks': 4096, 'encoder_noise': 5e-4}
SPEED = 0.3


def monitor(twin: Twin, false_alarm_rate: float) -> DriftMonitor:
    """The monitor under test, for the default robot."""
    return DriftMonitor(twin.caster, twin.robot, wheel_radius=0.06, wheel_separation=0.32,
                        false_alarm_rate=false_alarm_rate)


def one_run(twin: Twin, fault: str, seed: int, rate: float, far: float) -> dict:
    """One seeded run of ``fault``: first ERROR per cause and the estimate error."""
    rng = np.random.default_rng(1000 + seed)
    mon = monitor(twin, far)
    seconds = 1.0 + TARGET_DELAY[fault] + 1.0
    kwargs: dict = dict(ENCODERS)
    sign = float(rng.choice([-1.0, 1.0]))
    if fault == 'world':
        sc = scenarios.draw_world_change(twin, 'warehouse', rng, seconds, SPEED, 1.0)
        old = scenarios.footprint(twin, sc.body)
        kwargs['on_fault'] = lambda: twin.move_body(sc.body, *sc.move)
    else:
        sc = scenarios.draw_clear(twin, 'warehouse', rng, seconds, SPEED)
    if fault == 'pose':
        ang = rng.uniform(-math.pi, math.pi)
        kwargs['pose_offset'] = (0.05 * math.cos(ang), 0.05 * math.sin(ang),
                                 math.radians(2.0) * sign)
    kwargs.update(yaw_offset=math.radians(2.0) * sign, range_bias=0.03 * sign,
                  range_scale=1.0 + 0.01 * sign)
    try:
        first, true, odom = drive(twin, mon, start=sc.start, phase=sc.phase, seconds=seconds,
                                  fault=fault, fault_at=1.0, rng=rng, scan_rate=rate,
                                  speed=SPEED, **kwargs)
        if fault == 'world':
            new = scenarios.footprint(twin, sc.body)
            new_centre = scenarios.body_centre(twin, sc.body)
    finally:
        twin.physical.sync(twin.caster.data.qpos)
    est = mon.verdicts()[CAUSE[fault]].estimates
    err = None
    if fault == 'pose' and 'dx' in est:
        truth = true - odom
        err = (math.hypot(est['dx'] - truth[0], est['dy'] - truth[1]),
               abs(est['dyaw_deg'] - math.degrees(truth[2])))
    elif fault == 'world' and 'changed_x' in est:
        c = np.array([est['changed_x'], est['changed_y']])
        appeared = np.array([est.get('appeared_x', np.nan), est.get('appeared_y', np.nan)])
        err = (scenarios.distance_to(c, old + new),
               scenarios.distance_to(appeared, new) if np.all(np.isfinite(appeared))
               else math.nan, float(np.hypot(*(c - new_centre))))
    elif fault == 'lidar' and 'yaw_offset_deg' in est:
        err = (abs(est['yaw_offset_deg'] - 2.0 * sign),)
    elif fault == 'range_bias' and 'range_bias' in est:
        err = (abs(est['range_bias'] - kwargs['range_bias']),)
    elif fault == 'range_scale' and 'range_scale' in est:
        err = (100 * abs(est['range_scale'] - kwargs['range_scale']),)
    elif fault == 'wheels' and 'slip' in est:
        err = (abs(est['slip'] - 0.1),)
    return {'first': first, 'err': err, 'draws': sc.draws}


def fault_runs(twin: Twin, fault: str, runs: int, rate: float, far: float) -> dict:
    """``runs`` seeded runs of ``fault``, summarised."""
    cause = CAUSE[fault]
    delays, named, errs, draws = [], 0, [], 0
    for seed in range(runs):
        r = one_run(twin, fault, seed, rate, far)
        first = r['first']
        draws += r['draws']
        if cause in first and first[cause] <= TARGET_DELAY[fault]:
            delays.append(first[cause])
            named += not any(c != cause for c in first)
        if r['err'] is not None:
            errs.append(r['err'])
    e = np.array(errs) if errs else None
    with np.errstate(all='ignore'):
        p50 = np.nanmedian(e, axis=0) if e is not None else None
        emax = np.nanmax(e, axis=0) if e is not None else None
    return {'detected': len(delays) / runs, 'named': named / runs, 'draws': draws / runs,
            'delay_p50': float(np.median(delays)) if delays else math.nan,
            'delay_max': max(delays) if delays else math.nan,
            'err_p50': p50, 'err_max': emax}


def false_alarms(world: str, minutes: float, rate: float, far: float,
                 segment: float = 20.0) -> tuple[int, int, dict[str, int]]:
    """Segments with an alarm, scans and alarms per cause over ``minutes`` of nominal driving."""
    twin = Twin(world)
    rng = np.random.default_rng(7)
    segments = math.ceil(minutes * 60 / segment)
    alarms, causes = 0, {}
    for _ in range(segments):
        mon = monitor(twin, far)
        sc = scenarios.draw_clear(twin, world, rng, segment, 0.2)
        first, _, _ = drive(twin, mon, start=sc.start, phase=sc.phase, seconds=segment,
                            rng=rng, scan_rate=rate, speed=0.2, **ENCODERS)
        alarms += bool(first)
        for c in first:
            causes[c] = causes.get(c, 0) + 1
    return alarms, int(segments * segment * rate), causes


def cost(twin: Twin, far: float, n: int = 600, pose_fault: bool = False
         ) -> tuple[np.ndarray, np.ndarray]:
    """Per-scan times (s) of the drift check and of the bare cast of the same beams, driving
    clear arcs (with a 5 cm / 2 deg odometry offset if ``pose_fault``)."""
    rng = np.random.default_rng(3)
    check, bare = [], []
    while len(check) < n:
        mon = monitor(twin, far)
        sc = scenarios.draw_clear(twin, 'warehouse', rng, 10.0, SPEED)
        poses, _ = arc(sc.start, 10.0, sc.phase, speed=SPEED, dt=0.05)
        for i, true in enumerate(poses):
            odom = true + (np.array([0.04, -0.03, math.radians(2)]) if pose_fault else 0.0)
            stamp = S + i * S // 20
            mon.add_odometry(OdometrySample(position=np.array([odom[0], odom[1], 0.0]),
                                            orientation=quat_from_rpy(0, 0, odom[2]),
                                            stamp_ns=stamp))
            scan = scan_data(twin, twin.scan(true, rng))
            t0 = time.perf_counter()
            mon.add_scan(scan, stamp)
            t1 = time.perf_counter()
            mon.matcher.cast_at(odom, twin.angles)
            t2 = time.perf_counter()
            if i >= 5:
                check.append(t1 - t0)
                bare.append(t2 - t1)
    return np.array(check[:n]), np.array(bare[:n])


def _fmt(values: np.ndarray | None) -> str:
    return '-' if values is None else ' / '.join(f'{v:.4g}' for v in values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--runs', type=int, default=20, help='seeded runs per fault')
    parser.add_argument('--minutes', type=float, default=10.0,
                        help='nominal driving per world for the false-alarm count')
    parser.add_argument('--rates', type=float, nargs='+', default=[10.0, 20.0],
                        help='scan rates (Hz)')
    parser.add_argument('--false-alarm-rate', type=float, default=1e-7,
                        help='false alarms per sample allowed, per test')
    parser.add_argument('--only', nargs='+', choices=FAULTS, default=list(FAULTS))
    parser.add_argument('--worlds', nargs='+', default=None, help='worlds for false alarms')
    parser.add_argument('--skip-false-alarms', action='store_true')
    parser.add_argument('--skip-cost', action='store_true')
    args = parser.parse_args()
    far = args.false_alarm_rate
    twin = Twin('warehouse')
    for rate in args.rates:
        print(f'--- {rate:g} Hz scans, {args.runs} runs per fault, false-alarm rate {far:g}')
        print(f'{"fault":12} {"detected":>8} {"named":>6} {"delay p50":>9} {"max":>6}  '
              f'{"error p50":>18} {"error max":>18}  target / units')
        for fault in args.only if args.runs > 0 else ():
            r = fault_runs(twin, fault, args.runs, rate, far)
            print(f'{fault:12} {r["detected"]:8.0%} {r["named"]:6.0%} {r["delay_p50"]:8.2f}s '
                  f'{r["delay_max"]:5.2f}s  {_fmt(r["err_p50"]):>18} {_fmt(r["err_max"]):>18}'
                  f'  {TARGET_ERROR[fault]} ({UNITS[fault]}; {r["draws"]:.1f} draws/run)')
        if args.skip_false_alarms:
            continue
        worlds = args.worlds or sorted(p.stem for p in (ROOT / 'worlds').glob('*.sdf'))
        for world in worlds:
            alarms, scans, causes = false_alarms(world, args.minutes, rate, far)
            print(f'no fault, {world}: {alarms} segments with an alarm {causes or ""}, '
                  f'{scans} scans ({scans / rate / 60:.1f} min at {rate:g} Hz)')
    if args.skip_cost:
        return
    for label, fault in (('nominal', False), ('5 cm / 2 deg pose offset', True)):
        check, bare = cost(twin, far, pose_fault=fault)
        print(f'cost of a 720-beam drift check ({label}): p50 {np.median(check) * 1e3:.2f} ms, '
              f'p99 {np.percentile(check, 99) * 1e3:.2f} ms; bare cast p50 '
              f'{np.median(bare) * 1e3:.2f} ms, p99 {np.percentile(bare, 99) * 1e3:.2f} ms')


if __name__ == '__main__':
    main()
