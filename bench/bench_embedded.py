#!/usr/bin/env python3
"""Benchmark of the embedded MuJoCo backend: mirror + scan tick cost and dynamics speed.

Prints one table. Every figure is measured in this run next to its baseline:
- the bare ``mj_multiRay`` of the same rays on the same model (what a scan cannot beat);
- ``mj_step`` alone (what ``step`` adds its bookkeeping to).
Targets (issue 3): tick <= 0.3 ms, dynamics real-time factor >= 50x on one thread.
"""

from __future__ import annotations

import argparse
from pathlib import Path
import statistics
import sys
import time

import mujoco
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from twin_bridge.core.state import JointStateSample, OdometrySample
from twin_bridge.core.transforms import quat_from_rpy, quat_to_matrix
from twin_bridge.description.robot_description import (
    default_robot_path,
    load_robot_description,
)
from twin_bridge.embedded.embedded_backend import EmbeddedBackend
from twin_bridge.embedded.mujoco_robot import ROBOT_GEOM_GROUP

TICK_TARGET_US = 300.0
RTF_TARGET = 50.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command line options."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--world', default='warehouse',
                        help='shipped world name or SDF path (default: %(default)s)')
    parser.add_argument('--samples', type=int, default=720,
                        help='lidar beams per scan (xacro arg lidar_samples; default: '
                             '%(default)s)')
    parser.add_argument('--ticks', type=int, default=1000,
                        help='mirror + scan ticks per repeat, each at its own random pose '
                             '(default: %(default)s)')
    parser.add_argument('--sim-seconds', type=float, default=2.0,
                        help='simulated seconds per dynamics repeat (default: %(default)s)')
    parser.add_argument('--repeats', type=int, default=5,
                        help='repeats; the median is reported (default: %(default)s)')
    parser.add_argument('--noise', action='store_true',
                        help='add the lidar tag\'s Gaussian noise to scans (default: off)')
    return parser.parse_args(argv)


def median_time(fn, repeats: int) -> float:
    """Median wall time (s) of ``fn()`` over ``repeats`` runs."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table; exit status 1 if a target is missed."""
    args = parse_args(argv)
    robot = load_robot_description(default_robot_path(), {'lidar_samples': str(args.samples)})
    backend = EmbeddedBackend(args.world, robot, lidar_seed=0, lidar_noise=args.noise)
    model, data = backend.model, backend.data
    rng = np.random.default_rng(0)
    n = args.ticks
    poses = [OdometrySample(position=np.array([x, y, 0.0]), orientation=quat_from_rpy(0, 0, yaw),
                            linear_velocity=np.array([0.3, 0.0, 0.0]))
             for x, y, yaw in rng.uniform([-2, -2, -np.pi], [2, 2, np.pi], size=(n, 3))]
    names = backend.joint_names
    joint_samples = [JointStateSample(names=names, positions=p)
                     for p in rng.uniform(-0.5, 0.5, size=(n, len(names)))]

    def ticks() -> None:
        for odom, joints in zip(poses, joint_samples, strict=True):
            backend.mirror(odom, joints)
            backend.scan()

    def mirrors() -> None:
        for odom, joints in zip(poses, joint_samples, strict=True):
            backend.mirror(odom, joints)  # checks + writes qpos/qvel; kinematics run at scan

    # Baseline: the same ray bundles (same lidar poses) straight into mj_multiRay, precomputed
    # outside the timing: no mirroring, no culling, no conversion.
    angles = robot.lidar.beam_angles()
    local = np.stack([np.cos(angles), np.sin(angles), np.zeros_like(angles)], axis=1)
    bundles = []
    for odom, joints in zip(poses, joint_samples, strict=True):
        backend.mirror(odom, joints)
        origin, orientation = backend.lidar_pose()
        rot = quat_to_matrix(orientation)
        bundles.append((origin, (local @ rot.T).ravel()))
    groups = np.ones(mujoco.mjNGROUP, dtype=np.uint8)
    groups[ROBOT_GEOM_GROUP] = 0
    geomid = np.zeros(args.samples, dtype=np.int32)
    dist = np.zeros(args.samples)

    def bare_rays() -> None:
        for origin, vec in bundles:
            mujoco.mj_multiRay(model, data, origin, vec, groups, 1, -1, geomid, dist, None,
                               args.samples, robot.lidar.range_max)

    tick_us = median_time(ticks, args.repeats) / n * 1e6
    mirror_us = median_time(mirrors, args.repeats) / n * 1e6
    bare_us = median_time(bare_rays, args.repeats) / n * 1e6

    # Dynamics: backend.step vs bare mj_step for the same simulated time, wheels driven.
    wheels = dict.fromkeys(robot.wheel_joint_names, 5.0)
    nstep = int(round(args.sim_seconds / model.opt.timestep))

    def dynamics() -> None:
        backend.mirror(poses[0])
        backend.step(args.sim_seconds, wheels)

    def bare_steps() -> None:
        mujoco.mj_step(model, data, nstep)

    step_s = median_time(dynamics, args.repeats)
    bare_step_s = median_time(bare_steps, args.repeats)
    rtf = args.sim_seconds / step_s
    bare_rtf = args.sim_seconds / bare_step_s

    rows = [
        ('bare mj_multiRay (baseline)', f'{bare_us:8.1f} us', '1.00', ''),
        ('mirror only (pose + 4 joints)', f'{mirror_us:8.1f} us',
         f'{mirror_us / bare_us:.2f}', ''),
        (f'tick: mirror + {args.samples}-ray scan', f'{tick_us:8.1f} us',
         f'{tick_us / bare_us:.2f}', f'<= {TICK_TARGET_US:.0f} us'),
        ('bare mj_step (baseline)', f'{bare_rtf:8.1f} x RT', '1.00', ''),
        ('dynamics step(), wheels driven', f'{rtf:8.1f} x RT', f'{bare_rtf / rtf:.2f}',
         f'>= {RTF_TARGET:.0f} x'),
    ]
    print(f'embedded backend benchmark: world={args.world} ngeom={model.ngeom} '
          f'timestep={model.opt.timestep * 1e3:.1f} ms, median of {args.repeats}')
    header = ('measure', 'value', 'time vs baseline', 'target')
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    line = '  '.join('{:<%d}' % w for w in widths)  # noqa: UP031 - column template
    print(line.format(*header))
    print(line.format(*('-' * w for w in widths)))
    for row in rows:
        print(line.format(*row))
    ok = tick_us <= TICK_TARGET_US and rtf >= RTF_TARGET
    print('targets met' if ok else 'TARGET MISSED')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
