"""``twin_train``: train a TwinNav policy with PPO and report its success rate."""

from __future__ import annotations

import argparse
import json
import sys

from twin_bridge.errors import TwinBridgeError
from twin_bridge.learning.training import TrainSettings, train

__all__ = ['main']


def _parser() -> argparse.ArgumentParser:
    d = TrainSettings()
    p = argparse.ArgumentParser(
        prog='twin_train',
        description='Train a navigation policy on the twin (TwinNav-v0, PPO on CPU), evaluate '
                    'it and a random policy over the same seeded episodes, and save policy.zip, '
                    'policy.json, learning_curve.png and report.json. Ctrl-C stops training '
                    'early and still saves.')
    p.add_argument('-o', '--output', default='runs/nav', help='output directory (runs/nav)')
    p.add_argument('--world', default=d.world, help=f'world name or SDF path ({d.world})')
    p.add_argument('--robot', default=None, help='robot file (default: the package robot)')
    p.add_argument('--seed', type=int, default=d.seed, help=f'seed of everything ({d.seed})')
    p.add_argument('--envs', type=int, default=d.num_envs, help=f'env copies ({d.num_envs})')
    p.add_argument('--steps', type=int, default=d.total_steps,
                   help=f'most env steps ({d.total_steps:,d})')
    p.add_argument('--cpu-budget', type=float, default=d.cpu_budget,
                   help=f'stop training after this many CPU-seconds ({d.cpu_budget:g})')
    p.add_argument('--eval-episodes', type=int, default=d.eval_episodes,
                   help=f'evaluation episodes ({d.eval_episodes})')
    p.add_argument('--max-episode-steps', type=int, default=d.max_episode_steps,
                   help=f'time limit in control periods ({d.max_episode_steps})')
    p.add_argument('--randomization', default=None,
                   help='domain randomization YAML (e.g. config/nav_randomization.yaml)')
    p.add_argument('--nav', default='{}',
                   help='TwinNav config overrides as JSON, e.g. \'{"beams": 24}\'')
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code (0 ok, 1 bad input, 130 interrupted)."""
    args = _parser().parse_args(argv)
    try:
        nav = json.loads(args.nav)
    except json.JSONDecodeError as exc:
        print(f'twin_train: --nav is not JSON: {exc}', file=sys.stderr)
        return 1
    settings = TrainSettings(world=args.world, robot=args.robot, seed=args.seed,
                             num_envs=args.envs, total_steps=args.steps,
                             cpu_budget=args.cpu_budget, eval_episodes=args.eval_episodes,
                             max_episode_steps=args.max_episode_steps, nav=nav,
                             randomization=args.randomization)
    try:
        result = train(settings, args.output, log=lambda line: print(line, flush=True))
    except TwinBridgeError as exc:
        print(f'twin_train: {exc}', file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print('twin_train: interrupted', file=sys.stderr)
        return 130
    print(f'trained {result.steps:,d} steps in {result.cpu_seconds:.0f} CPU-s '
          f'({result.wall_seconds:.0f} s wall)')
    for name, ev in (('policy', result.policy), ('random', result.random)):
        if ev is not None:
            print(f'{name:>6}: success {ev.success_rate:6.1%}  collision '
                  f'{ev.collision_rate:6.1%}  timeout {ev.timeout_rate:6.1%}  return '
                  f'{ev.mean_return:7.2f} over {ev.episodes} episodes')
    for name, path in result.files.items():
        print(f'{name}: {path}')
    return 130 if result.interrupted else 0


if __name__ == '__main__':
    sys.exit(main())
