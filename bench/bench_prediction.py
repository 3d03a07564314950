#!/usr/bin/env python3
"""Benchmark of prediction: 1 s-ahead error on the stand-in's figure-eight, ensemble coverage,
ensemble rollout time and CPU share.

Prints one table. Every timing is measured in this run next to its baseline:
- (i) 1 s-ahead position error p50 of the kinematic prediction and of the ensemble mean on the
  stand-in robot's figure-eight (motion_profiles) at nominal noise (target <= 2 cm);
- (ii) how often the ensemble's 90 % ellipse holds reality (target 85-95 %);
- (iii) 64 x 1 s physics rollouts with ``mujoco.rollout`` on the machine's threads against a
  Python loop of ``mj_step`` over the same states and controls (target <= 50 ms);
- (iv) CPU share of prediction at 10 Hz (process CPU time, all threads; target <= 10 %).
"""

from __future__ import annotations

import argparse
from pathlib import Path
import statistics
import sys
import time

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from twin_bridge.description.robot_description import (
    default_robot_path,
    load_robot_description,
)
from twin_bridge.description.wheel_geometry import wheel_geometry
from twin_bridge.embedded.embedded_backend import EmbeddedBackend
from twin_bridge.embedded.rollout_ensemble import RolloutEnsemble
from twin_bridge.stand_in.motion_profiles import DiffDriveGeometry, MeasurementNoise, make_motion
from twin_bridge.twin.prediction import KinematicPredictor
from twin_bridge.twin.prediction_score import PredictionScorer

ERROR_TARGET_M = 0.02
COVERAGE_TARGET = (0.85, 0.95)
ROLLOUT_TARGET_MS = 50.0
CPU_TARGET = 0.10


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command line options."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--world', default='empty', help='world (default: %(default)s)')
    parser.add_argument('--seconds', type=float, default=40.0,
                        help='figure-eight seconds driven (default: %(default)s)')
    parser.add_argument('--noise', type=float, default=0.001,
                        help='nominal stand-in noise on positions, m and rad (default: '
                             '%(default)s)')
    parser.add_argument('--rate', type=float, default=50.0,
                        help='odometry/joint-state rate, Hz (default: %(default)s)')
    parser.add_argument('--ensemble-rate', type=float, default=2.0,
                        help='ensemble predictions per second in (i)/(ii) (default: '
                             '%(default)s)')
    parser.add_argument('--members', type=int, default=64, help='ensemble size')
    parser.add_argument('--repeats', type=int, default=5,
                        help='timing repeats; the median is reported (default: %(default)s)')
    parser.add_argument('--seed', type=int, default=1, help='noise seed')
    return parser.parse_args(argv)


def figure_eight_scores(args: argparse.Namespace, robot, backend, ensemble
                        ) -> tuple[PredictionScorer, PredictionScorer, list[float], list[float]]:
    """Drive the stand-in's figure-eight; score kinematic (10 Hz) and ensemble predictions.

    Returns both scorers and the CPU seconds of each kinematic and ensemble prediction.
    """
    geometry = wheel_geometry(robot)
    joints = [(n, robot.joint(n).lower, robot.joint(n).upper)
              for n in robot.movable_joint_names]
    motion = make_motion('figure_eight', joints, robot.wheel_joint_names,
                         geometry=DiffDriveGeometry(geometry.radius, geometry.separation))
    noise = MeasurementNoise(args.noise, args.seed)
    predictor = KinematicPredictor(geometry)
    kinematic, physics = PredictionScorer(window=100000), PredictionScorer(window=100000)
    kin_cpu, ens_cpu = [], []
    dt = 1.0 / args.rate
    kin_every = max(1, int(round(args.rate / 10.0)))
    ens_every = max(1, int(round(args.rate / args.ensemble_rate)))
    for k in range(int(args.seconds * args.rate) + int(2 * args.rate)):
        t = k * dt
        stamp = int(round(t * 1e9))
        odom = noise.odometry(motion.odometry(t, stamp))
        joint_state = noise.joint_state(motion.joint_state(t, stamp))
        backend.mirror(odom, joint_state)
        kinematic.add_odometry(odom)
        physics.add_odometry(odom)
        if t > args.seconds:
            continue  # only let the last predictions meet reality
        if k % kin_every == 0:
            c0 = time.process_time()
            kinematic.add_prediction(predictor.predict(odom, joint_state))
            kin_cpu.append(time.process_time() - c0)
        if k % ens_every == 0:
            c0 = time.process_time()
            prediction = ensemble.predict(odom, joint_state)
            ens_cpu.append(time.process_time() - c0)
            physics.add_prediction(prediction)
    return kinematic, physics, kin_cpu, ens_cpu


def rollout_times(ensemble: RolloutEnsemble, odometry, repeats: int) -> tuple[float, float]:
    """Median wall time (s) of one batched rollout and of the Python mj_step loop."""
    state = ensemble.initial_state(odometry)
    states, control = ensemble.perturbed_inputs(state, float(odometry.linear_velocity[0]),
                                                float(odometry.angular_velocity[2]))
    ensemble.rollout(states, control)  # warm the pool
    fast, slow = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        ensemble.rollout(states, control)
        fast.append(time.perf_counter() - t0)
    for _ in range(max(1, repeats // 2)):
        t0 = time.perf_counter()
        ensemble.reference_rollout(states, control)
        slow.append(time.perf_counter() - t0)
    return statistics.median(fast), statistics.median(slow)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table; exit status 1 if a target is missed."""
    args = parse_args(argv)
    robot = load_robot_description(default_robot_path())
    backend = EmbeddedBackend(args.world, robot, lidar_noise=False)
    geometry = wheel_geometry(robot)
    with RolloutEnsemble(backend, geometry, members=args.members, seed=args.seed) as ensemble:
        kinematic, physics, kin_cpu, ens_cpu = figure_eight_scores(args, robot, backend,
                                                                   ensemble)
        odometry = backend.odometry()
        fast, slow = rollout_times(ensemble, odometry, args.repeats)
        c0, t0 = time.process_time(), time.perf_counter()
        for _ in range(args.repeats):
            ensemble.predict(odometry, backend.joint_state())
        predict_wall = (time.perf_counter() - t0) / args.repeats
        predict_cpu = (time.process_time() - c0) / args.repeats
        threads, steps = ensemble.nthread, ensemble.nstep
    k, p = kinematic.stats, physics.stats
    kin_share = 10.0 * statistics.median(kin_cpu)
    ens_share = 10.0 * predict_cpu
    rows = [
        ('(i) 1 s-ahead error p50, kinematic', f'{100 * k.p50:.2f} cm (p95 '
         f'{100 * k.p95:.2f} cm, n={k.count})', f'<= {100 * ERROR_TARGET_M:.0f} cm',
         k.p50 <= ERROR_TARGET_M),
        ('(i) 1 s-ahead error p50, ensemble mean', f'{100 * p.p50:.2f} cm (p95 '
         f'{100 * p.p95:.2f} cm, n={p.count})', f'<= {100 * ERROR_TARGET_M:.0f} cm',
         p.p50 <= ERROR_TARGET_M),
        ('(ii) ensemble 90 % coverage', f'{100 * p.coverage:.1f} % (n={p.coverage_count})',
         '85-95 %', COVERAGE_TARGET[0] <= p.coverage <= COVERAGE_TARGET[1]),
        (f'(iii) {args.members} x 1 s rollouts ({steps} steps, {threads} threads)',
         f'{1e3 * fast:.1f} ms (Python mj_step loop {1e3 * slow:.1f} ms, '
         f'{slow / fast:.1f}x)', f'<= {ROLLOUT_TARGET_MS:.0f} ms',
         1e3 * fast <= ROLLOUT_TARGET_MS),
        ('     whole ensemble predict()', f'{1e3 * predict_wall:.1f} ms wall, '
         f'{1e3 * predict_cpu:.1f} ms CPU', '', True),
        ('(iv) kinematic prediction at 10 Hz', f'{100 * kin_share:.3f} % of a core '
         f'({1e6 * statistics.median(kin_cpu):.0f} us each)', f'<= {100 * CPU_TARGET:.0f} %',
         kin_share <= CPU_TARGET),
        ('(iv) ensemble prediction at 10 Hz', f'{100 * ens_share:.1f} % of a core '
         f'(at {args.ensemble_rate:g} Hz: {100 * ens_share * args.ensemble_rate / 10:.1f} %)',
         f'<= {100 * CPU_TARGET:.0f} %', ens_share <= CPU_TARGET),
    ]
    print(f'world {args.world}, figure-eight {args.seconds:g} s at {args.rate:g} Hz, noise '
          f'{args.noise:g}, {args.members} members, seed {args.seed}')
    width = max(len(r[0]) for r in rows)
    for name, value, target, ok in rows:
        print(f'{name:<{width}}  {value:<55} {target:<10} {"ok" if ok else "MISS"}')
    return 0 if all(r[3] for r in rows) else 1


if __name__ == '__main__':
    sys.exit(main())
