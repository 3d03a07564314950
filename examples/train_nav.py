#!/usr/bin/env python3
"""Train a policy that drives the twin's robot to goals in the warehouse, in <= 10 CPU-minutes.

The task (documented in README "Learning on the twin"): TwinNav-v0 in ``worlds/warehouse.sdf``
with the package robot, goals 1-4 m from a free start, in line of sight (a robot-wide
corridor clear of obstacles), 20 s (400 steps) per episode, under the domain randomization of
``config/nav_randomization.yaml`` (shelves and boxes moved up to 0.3 m, up to 3 boxes added,
friction x0.7-1.3, mass x0.8-1.2, lidar noise, up to 0.1 s action delay and 0.05 s observation
latency); reward = 5 x metres gained - 0.01 per step, +10 at the goal, -10 for a collision.
PPO (Stable-Baselines3, a 64x64 MLP actor-critic on CPU torch) on 32 env copies, seed 0,
stops after 540 CPU-seconds of training, then evaluates the policy and a random policy over
the same 100 seeded episodes. Writes runs/train_nav/{policy.zip, policy.json,
learning_curve.png, report.json}; Ctrl-C stops early and still saves. Drive the twin with
the result: ``twin_policy --ros-args -p policy:=runs/train_nav``. Extra arguments are passed
to ``twin_train`` (e.g. ``--cpu-budget 60``).
"""

from __future__ import annotations

from pathlib import Path
import sys

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from twin_bridge.learning.train_cli import main  # noqa: E402

ARGS = ['--output', 'runs/train_nav', '--seed', '0', '--world', 'warehouse',
        '--cpu-budget', '540', '--max-episode-steps', '400',
        '--randomization', str(ROOT / 'config' / 'nav_randomization.yaml'),
        '--nav', '{"goal_distance": [1.0, 4.0]}']

if __name__ == '__main__':
    sys.exit(main([*ARGS, *sys.argv[1:]]))
