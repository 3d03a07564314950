"""Evaluate a navigation policy (or a random one) over a fixed number of seeded episodes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from twin_bridge.learning.nav_vector_env import TwinNavVectorEnv

__all__ = ['EvalResult', 'evaluate', 'random_policy']

#: A policy: observations ``(n, obs)`` float32 -> actions ``(n, 2)`` in [-1, 1].
Policy = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class EvalResult:
    """Outcome of ``episodes`` episodes: the fractions that reached the goal, collided or
    ran out of time, and the mean and standard deviation of the episode return and length."""

    episodes: int
    success_rate: float
    collision_rate: float
    timeout_rate: float
    mean_return: float
    std_return: float
    mean_length: float

    def to_mapping(self) -> dict[str, Any]:
        """Plain data (JSON)."""
        return asdict(self)


def random_policy(seed: int) -> Policy:
    """Uniform random actions in [-1, 1] from a generator seeded with ``seed``."""
    rng = np.random.default_rng(seed)
    return lambda obs: rng.uniform(-1.0, 1.0, (len(obs), 2))


def evaluate(policy: Policy, env: TwinNavVectorEnv, episodes: int, seed: int) -> EvalResult:
    """Run ``policy`` until every copy of ``env`` finished its share of ``episodes``.

    Copy ``i`` runs ``episodes // n`` episodes (the first ``episodes % n`` copies one more),
    so short episodes are not over-counted; the env is reset with ``seed`` first.

    :raise ValueError: ``episodes`` < 1 or an env not in ``NEXT_STEP`` autoreset mode
    """
    if episodes < 1:
        raise ValueError(f'episodes must be >= 1, got {episodes}')
    if env.autoreset_mode.value != 'NextStep':
        raise ValueError('evaluate() needs a TwinNavVectorEnv in NEXT_STEP autoreset mode')
    n = env.num_envs
    quota = np.full(n, episodes // n)
    quota[:episodes % n] += 1
    done_count = np.zeros(n, dtype=int)
    returns, lengths, outcomes = [], [], []
    running = np.zeros(n)
    steps = np.zeros(n, dtype=int)
    obs, _ = env.reset(seed=seed)
    resetting = np.zeros(n, dtype=bool)
    while np.any(done_count < quota):
        actions = np.clip(np.asarray(policy(obs), dtype=np.float64), -1.0, 1.0)
        obs, reward, terminated, truncated, info = env.step(actions)
        counting = ~resetting & (done_count < quota)
        running += np.where(counting, reward, 0.0)
        steps += counting
        ended = counting & (terminated | truncated)
        for i in np.flatnonzero(ended):
            returns.append(running[i])
            lengths.append(steps[i])
            outcomes.append('success' if info['is_success'][i]
                            else 'collision' if info['collision'][i] else 'timeout')
            done_count[i] += 1
        running[ended] = 0.0
        steps[ended] = 0
        resetting = terminated | truncated
    outcome = np.array(outcomes)
    return EvalResult(
        episodes=len(outcomes), success_rate=float(np.mean(outcome == 'success')),
        collision_rate=float(np.mean(outcome == 'collision')),
        timeout_rate=float(np.mean(outcome == 'timeout')),
        mean_return=float(np.mean(returns)), std_return=float(np.std(returns)),
        mean_length=float(np.mean(lengths)))
