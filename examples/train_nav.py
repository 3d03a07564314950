#!/usr/bin/env python3
"""Train a policy that drives the twin's robot to goals in the warehouse, in <= 10 CPU-minutes.

The task (documented in README "Learning on the twin"): TwinNav-v0 in ``worlds/warehouse.sdf``
with the package robot, goals 1-4 m from the start anywhere in free space (not necessarily
in line of sight: shelves and partitions are in the way), 20 s per episode; reward =
5 x metres gained - 0.01 per step, +10 at the goal, -10 for a collision. PPO (Stable-
Baselines3, a 64x64 MLP actor-critic on CPU torch) on 32 env copies, seed 0, stops after
540 CPU-seconds (training), then evaluates the policy and a random policy over the same 100
seeded episodes. Writes runs/train_nav/{policy.zip, policy.json, learning_curve.png,
report.json}; Ctrl-C stops early and still saves. Drive the twin with the result:
``twin_policy --ros-args -p policy:=runs/train_nav``.
"""

from __future__ import annotations

from pathlib import Path
import sys

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from twin_bridge.learning.train_cli import main

#: The benchmark task: harder than the defaults (goals need not be in line of sight).
TASK = '{"goal_line_of_sight": false, "goal_distance": [1.0, 4.0]}'

if __name__ == '__main__':
    sys.exit(main(['--output', 'runs/train_nav', '--seed', '0', '--world', 'warehouse',
                   '--cpu-budget', '540', '--nav', TASK, '--max-episode-steps', '400',
                   *sys.argv[1:]]))
