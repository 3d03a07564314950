"""Drift-check benchmark: seeded fault runs in the warehouse, false alarms in every world,
and the cost of one drift check against the bare cast of the same beams (same run).

    .venv/bin/python bench/bench_drift.py [--runs 20] [--minutes 10] [--rate 10]

Faults are injected through the embedded backend (test/drift_fixtures.py): the 'physical'
scan is cast at the true pose (1 cm noise), the twin mirrors odometry. Prints one table.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
import sys
import time

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / 'test')]

from drift_fixtures import Twin, drive  # noqa: E402

from twin_bridge.twin.drift.monitor import DriftMonitor  # noqa: E402

TARGET_DELAY = {'pose': 0.5, 'world': 1.0, 'lidar': 2.0, 'wheels': 1.0}


def free_start(twin: Twin, rng: np.random.Generator, near=None) -> np.ndarray:
    """A random base pose with at least 0.8 m free all round the lidar."""
    while True:
        if near is None:
            p = rng.uniform([-4.5, -3.5, -math.pi], [4.5, 3.5, math.pi])
        else:
            ang = rng.uniform(-math.pi, math.pi)
            d = rng.uniform(1.5, 3.0)
            p = np.array([near[0] + d * math.cos(ang), near[1] + d * math.sin(ang),
                          ang + math.pi + rng.uniform(-0.5, 0.5)])
        ranges = twin.matcher().cast_at(p, twin.angles).ranges
        if np.min(ranges) > 0.8:
            return p


def monitor(twin: Twin) -> DriftMonitor:
    return DriftMonitor(twin.caster, twin.robot, wheel_radius=0.06, wheel_separation=0.32)


def box_centre(twin: Twin, body: str) -> tuple[np.ndarray, float]:
    m, d = twin.physical.model, twin.physical.data
    bid = m.body(body).id
    geoms = np.flatnonzero(m.geom_bodyid == bid)
    half = float(np.max(np.hypot(m.geom_size[geoms, 0], m.geom_size[geoms, 1])))
    return d.xpos[bid, :2].copy(), half


def fault_runs(twin: Twin, fault: str, runs: int, rate: float) -> dict:
    delays, named, errs = [], 0, []
    seconds = 1.0 + TARGET_DELAY[fault] + 1.0
    for seed in range(runs):
        rng = np.random.default_rng(1000 + seed)
        mon = monitor(twin)
        kwargs = {}
        if fault == 'world':
            body = f'box_{seed % 3}::link'
            centre, _ = box_centre(twin, body)
            ang = rng.uniform(-math.pi, math.pi)
            move = 0.3 * np.array([math.cos(ang), math.sin(ang)])
            kwargs['on_fault'] = lambda b=body, mv=move: twin.move_body(b, mv[0], mv[1])
            start = free_start(twin, rng, near=centre)
        else:
            start = free_start(twin, rng)
        if fault == 'pose':
            ang = rng.uniform(-math.pi, math.pi)
            kwargs['pose_offset'] = (0.05 * math.cos(ang), 0.05 * math.sin(ang),
                                     math.radians(2.0) * rng.choice([-1, 1]))
        try:
            first, true, odom = drive(twin, mon, start=start, seconds=seconds, fault=fault,
                                      fault_at=1.0, rng=rng, scan_rate=rate, **kwargs)
            est = mon.verdicts()[fault].estimates
            if fault == 'world':
                new_centre, half = box_centre(twin, body)
        finally:
            twin.physical.sync(twin.caster.data.qpos)
        others = {c for c in first if c != fault}
        if fault in first and first[fault] <= TARGET_DELAY[fault]:
            delays.append(first[fault])
        if fault in first and not others:
            named += 1
        if not est:
            continue
        if fault == 'pose':
            truth = true - odom
            errs.append((math.hypot(est['dx'] - truth[0], est['dy'] - truth[1]),
                         abs(est['dyaw_deg'] - math.degrees(truth[2]))))
        elif fault == 'lidar':
            errs.append((abs(est['yaw_offset_deg'] - 2.0),))
        elif fault == 'wheels':
            errs.append((abs(est['slip'] - 0.1),))
        else:
            d = math.hypot(est['changed_x'] - new_centre[0], est['changed_y'] - new_centre[1])
            errs.append((max(0.0, d - half), d))
    return {'detected': len(delays) / runs, 'named': named / runs,
            'delay_p50': float(np.median(delays)) if delays else math.nan,
            'delay_max': max(delays) if delays else math.nan,
            'err_max': np.max(np.array(errs), axis=0) if errs else None}


def false_alarms(world: str, minutes: float, rate: float) -> tuple[int, int, list[float]]:
    twin = Twin(world)
    scans = int(minutes * 60 * rate)
    runs, alarms, cost = 0, 0, []
    rng = np.random.default_rng(7)
    segment = 20.0
    while runs * segment * rate < scans:
        mon = monitor(twin)
        start = free_start(twin, rng)
        first, _, _ = drive(twin, mon, start=start, seconds=segment, rng=rng, scan_rate=rate,
                            speed=0.2)
        alarms += bool(first)
        runs += 1
    return alarms, int(runs * segment * rate), cost


def cost(twin: Twin, n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """Per-scan times (s) of the drift check and of the bare cast of the same beams."""
    rng = np.random.default_rng(3)
    mon = monitor(twin)
    from drift_fixtures import S, scan_data

    from twin_bridge.core.state import OdometrySample
    from twin_bridge.core.transforms import quat_from_rpy
    check, bare = [], []
    pose = free_start(twin, rng)
    for i in range(n):
        stamp = S + i * S // 10
        mon.add_odometry(OdometrySample(position=np.array([pose[0], pose[1], 0.0]),
                                        orientation=quat_from_rpy(0, 0, pose[2]),
                                        stamp_ns=stamp))
        scan = scan_data(twin, twin.scan(pose, rng))
        t0 = time.perf_counter()
        mon.add_scan(scan, stamp)
        t1 = time.perf_counter()
        mon.matcher.cast_at(pose, twin.angles)
        t2 = time.perf_counter()
        check.append(t1 - t0)
        bare.append(t2 - t1)
    return np.array(check[20:]), np.array(bare[20:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--runs', type=int, default=20)
    parser.add_argument('--minutes', type=float, default=10.0)
    parser.add_argument('--rate', type=float, default=10.0, help='scan rate (Hz)')
    args = parser.parse_args()
    twin = Twin('warehouse')
    print(f'{"fault":8} {"detected":>9} {"named":>6} {"delay p50":>10} {"delay max":>10}  '
          'estimate error (max over runs)')
    for fault in ('pose', 'world', 'lidar', 'wheels'):
        r = fault_runs(twin, fault, args.runs, args.rate)
        err = r['err_max']
        what = {'pose': 'm, deg', 'world': 'm outside box, m to centre', 'lidar': 'deg',
                'wheels': 'slip'}[fault]
        print(f'{fault:8} {r["detected"]:9.0%} {r["named"]:6.0%} {r["delay_p50"]:9.2f}s '
              f'{r["delay_max"]:9.2f}s  {np.round(err, 4) if err is not None else "-"} '
              f'({what})')
    for world in sorted(p.stem for p in (ROOT / 'worlds').glob('*.sdf')):
        alarms, scans, _ = false_alarms(world, args.minutes, args.rate)
        print(f'no fault, {world}: {alarms} runs with a false alarm, {scans} scans '
              f'({scans / args.rate / 60:.1f} min at {args.rate:g} Hz)')
    check, bare = cost(twin)
    print(f'cost of a 720-beam drift check: p50 {np.median(check) * 1e3:.2f} ms, p99 '
          f'{np.percentile(check, 99) * 1e3:.2f} ms; bare cast p50 '
          f'{np.median(bare) * 1e3:.2f} ms, p99 {np.percentile(bare, 99) * 1e3:.2f} ms; '
          f'check / cast (median) {np.median(check / bare):.1f}x; check - cast p99 '
          f'{np.percentile(check - bare, 99) * 1e3:.2f} ms')


if __name__ == '__main__':
    main()
