#!/usr/bin/env python3
"""Benchmark of batched TwinNav rollouts: env-steps per second.

64 copies of ``twin_bridge/TwinNav-v0`` (warehouse, package robot, 20 Hz control: 10 physics
steps of 5 ms, a 36-beam scan per step), seeded random actions, episodes ending and
autoresetting as they do. The native vector env (``gymnasium.make_vec(...,
vectorization_mode="vector_entry_point")``: physics and ray casts on threads over slices of
the copies, the rest vectorised) against its baseline in the same run: Gymnasium's
``SyncVectorEnv`` of the same single env (``vectorization_mode="sync"``). Rounds alternate so
load from other processes hits both alike. Target: at least 5,000 env-steps/s.
"""

from __future__ import annotations

import argparse
from pathlib import Path
import statistics
import sys
import time

import gymnasium as gym
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import twin_bridge.learning  # noqa: F401  (registers twin_bridge/TwinNav-v0)
from twin_bridge.learning.registration import NAV_ENV_ID

TARGET_STEPS_PER_S = 5000.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command line options."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--world', default='warehouse', help='world (default: %(default)s)')
    parser.add_argument('--envs', type=int, default=64, help='copies (default: %(default)s)')
    parser.add_argument('--steps', type=int, default=150,
                        help='vector steps per round (default: %(default)s)')
    parser.add_argument('--rounds', type=int, default=3, help='rounds (default: %(default)s)')
    parser.add_argument('--threads', type=int, default=None,
                        help='physics threads of the native env (default: the CPU count)')
    return parser.parse_args(argv)


def measure(env: gym.vector.VectorEnv, steps: int, rng: np.random.Generator
            ) -> tuple[float, float]:
    """Env-steps per second and process CPU per wall second over ``steps`` vector steps."""
    n = env.num_envs
    actions = rng.uniform(-1.0, 1.0, (steps, n, 2)).astype(np.float32)
    wall, cpu = time.perf_counter(), time.process_time()
    for k in range(steps):
        env.step(actions[k])
    wall = time.perf_counter() - wall
    return n * steps / wall, (time.process_time() - cpu) / wall


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit 0 when the target is met."""
    args = parse_args(argv)
    native = gym.make_vec(NAV_ENV_ID, num_envs=args.envs, world=args.world,
                          vectorization_mode='vector_entry_point', nthread=args.threads)
    sync = gym.make_vec(NAV_ENV_ID, num_envs=args.envs, world=args.world,
                        vectorization_mode='sync')
    rng = np.random.default_rng(0)
    results: dict[str, list[tuple[float, float]]] = {'native': [], 'sync': []}
    try:
        for env in (native, sync):
            env.reset(seed=0)
            measure(env, 10, rng)  # warm up
        for _ in range(args.rounds):
            for name, env in (('native', native), ('sync', sync)):
                results[name].append(measure(env, args.steps, rng))
    finally:
        native.close()
        sync.close()
    rate = {k: statistics.median(r for r, _ in v) for k, v in results.items()}
    load = {k: statistics.median(c for _, c in v) for k, v in results.items()}
    print(f'TwinNav-v0, {args.world}, {args.envs} envs, 20 Hz control, '
          f'{args.rounds} x {args.steps} vector steps (median of rounds)')
    print(f'  native vector env   : {rate["native"]:8.0f} env-steps/s  '
          f'({load["native"]:.2f} cores busy)')
    print(f'  SyncVectorEnv       : {rate["sync"]:8.0f} env-steps/s  '
          f'({load["sync"]:.2f} cores busy)')
    ratio = rate['native'] / rate['sync']
    met = rate['native'] >= TARGET_STEPS_PER_S
    print(f'  ratio native / sync : {ratio:.2f}x')
    print(f'  target >= {TARGET_STEPS_PER_S:,.0f} env-steps/s: {"met" if met else "MISSED"}')
    return 0 if met else 1


if __name__ == '__main__':
    sys.exit(main())
