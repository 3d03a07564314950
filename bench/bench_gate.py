#!/usr/bin/env python3
"""Benchmark of the command gate's core: the cost of one verdict.

For the shipped robot in ``worlds/warehouse.sdf``: random collision-free poses (a share of
them close to shelves and walls), random commands within the limits, and (with
``--points``) a cluster of unexplained scan points near the robot; each verdict places the
robot, sweeps its footprint over ``stop_horizon`` and decides. Timed against its baseline in
the same run: one bare ``mj_step`` batch (``mj_step(model, data, n)``) over the same horizon
on the same model. Target: a verdict in at most 1 ms p99. The thread's CPU time per verdict is
printed too: on a shared machine the wall-clock tail is mostly time spent preempted.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
import statistics
import sys
import time

import mujoco
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from twin_bridge.description.robot_description import (
    default_robot_path,
    load_robot_description,
)
from twin_bridge.embedded.embedded_backend import EmbeddedBackend
from twin_bridge.twin.safety.gate import CommandGate, GateConfig, RobotState

TARGET_P99_MS = 1.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command line options."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--world', default='warehouse', help='world (default: %(default)s)')
    parser.add_argument('--verdicts', type=int, default=5000,
                        help='verdicts timed (default: %(default)s)')
    parser.add_argument('--horizon', type=float, default=1.5,
                        help='stop_horizon, s (default: %(default)s)')
    parser.add_argument('--points', type=int, default=30,
                        help='scan points near the robot in half of the verdicts '
                             '(default: %(default)s)')
    parser.add_argument('--seed', type=int, default=1, help='seed (default: %(default)s)')
    return parser.parse_args(argv)


def _poses(gate: CommandGate, rng: np.random.Generator, count: int) -> list[RobotState]:
    """Collision-free poses inside the warehouse's walls; about half within 0.4 m of a
    world geom (the interesting ones)."""
    sweep, margin = gate.sweep, gate.config.safety_margin
    near, far, out = 0, 0, []
    while len(out) < count:
        x, y, yaw = rng.uniform(-5.7, 5.7), rng.uniform(-4.7, 4.7), rng.uniform(-math.pi, math.pi)
        state = RobotState(np.array([x, y, 0.0]),
                           np.array([0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2)]))
        sweep.set_state(state.position, state.orientation)
        # Exact distances of everything within 0.4 m at the start (a barely moving sweep).
        clearance = sweep.sweep(1e-6, 0.0, 1e-3, 0.4).clearance
        if clearance <= margin:
            continue
        if clearance < 0.4 and near <= far:
            near += 1
        elif clearance >= 0.4 and far <= near:
            far += 1
        else:
            continue
        out.append(state)
    return out


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table. :return: 0 when the target is met"""
    args = parse_args(argv)
    robot = load_robot_description(default_robot_path())
    backend = EmbeddedBackend(args.world, robot, lidar_noise=False)
    config = GateConfig(stop_horizon=args.horizon, scan_source=False)
    gate = CommandGate.from_backend(backend, config)
    rng = np.random.default_rng(args.seed)
    poses = _poses(gate, rng, 200)
    cases = []
    for i in range(args.verdicts):
        state = poses[i % len(poses)]
        command = (rng.uniform(-config.max_linear, config.max_linear),
                   rng.uniform(-config.max_angular, config.max_angular))
        points = None
        if args.points and i % 2:
            points = state.position[:2] + rng.uniform(-2.0, 2.0, (args.points, 2))
        cases.append((RobotState(state.position, state.orientation, received=0.0), command,
                      points))
    # Scan points go in through the obstacle set the gate reads (no cast: timed separately
    # from the verdict, as the node takes scans and commands on different callbacks).
    holder = _Points()
    gate.obstacles = holder  # type: ignore[assignment]
    for state, command, points in cases[:200]:   # warm-up
        holder.points = points
        gate.judge(command, 0.0, state)
    times, cpu = [], []
    for state, command, points in cases:
        holder.points = points
        start, start_cpu = time.perf_counter(), time.thread_time()
        gate.judge(command, 0.0, state)
        cpu.append((time.thread_time() - start_cpu) * 1e3)
        times.append((time.perf_counter() - start) * 1e3)
    data = mujoco.MjData(backend.model)
    data.qpos[:] = backend.data.qpos
    nstep = int(round(args.horizon / backend.model.opt.timestep))
    batches = []
    for _ in range(20):
        mujoco.mj_resetData(backend.model, data)
        start = time.perf_counter()
        mujoco.mj_step(backend.model, data, nstep)
        batches.append((time.perf_counter() - start) * 1e3)
    p50, p99 = _percentile(times, 50), _percentile(times, 99)
    step_ms = statistics.median(batches)
    print(f'command gate core, {args.world}, {len(cases)} verdicts, stop_horizon '
          f'{args.horizon} s, {args.points} scan points in half')
    print(f'  verdicts: {gate.verdict_counts}')
    print(f'  verdict   p50 {p50:7.3f} ms   p99 {p99:7.3f} ms   max {max(times):7.3f} ms')
    print(f'  CPU time  p50 {_percentile(cpu, 50):7.3f} ms   p99 {_percentile(cpu, 99):7.3f} ms'
          '   (this thread only: what a shared, loaded machine adds to the wall time is '
          'not in it)')
    print(f'  baseline  one mj_step batch of {nstep} steps ({args.horizon} s): '
          f'{step_ms:7.3f} ms (median of 20)')
    print(f'  verdict p99 / mj_step batch: {p99 / step_ms:.3f}')
    ok = p99 <= TARGET_P99_MS
    print(f'  target p99 <= {TARGET_P99_MS} ms: {"met" if ok else "MISSED"}')
    return 0 if ok else 1


class _Points:
    """Stands in for ScanObstacles: fresh, with given points."""

    time = 0.0
    points: np.ndarray | None = None


if __name__ == '__main__':
    sys.exit(main())
