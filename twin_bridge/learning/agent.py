"""The seed's ``TwinBasedAIAgent``: a policy learnt in the twin, then asked for commands."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from twin_bridge.errors import ConfigError
from twin_bridge.learning.nav_policy import NavPolicy
from twin_bridge.learning.training import TrainResult, TrainSettings, train

__all__ = ['TwinBasedAIAgent']


class TwinBasedAIAgent:
    """An agent that learns to drive in the twin and then decides commands.

    Learning is PPO (Stable-Baselines3: a small PyTorch actor-critic on CPU) on the batched
    ``TwinNav-v0`` environment, with the domain randomization of ``settings.randomization``;
    the result is a saved policy (``policy.zip`` + ``policy.json``) that ``twin_policy``
    runs over ROS and :meth:`decide_action` runs here.

    :param policy: a trained policy's directory (``None``: train one with
        :meth:`train_in_twin`)
    :raise ConfigError: the policy cannot be loaded (the file named)
    """

    def __init__(self, policy: str | Path | None = None) -> None:
        self.policy: NavPolicy | None = None if policy is None else NavPolicy(policy)

    def train_in_twin(self, output_dir: str | Path, settings: TrainSettings | None = None,
                      log: Callable[[str], None] = print, **overrides: Any) -> TrainResult:
        """Train in the twin (``settings`` with ``overrides`` applied, e.g.
        ``cpu_budget=60``), save into ``output_dir`` and use the result from now on."""
        result = train(replace(settings or TrainSettings(), **overrides), output_dir, log)
        self.policy = NavPolicy(output_dir)
        return result

    def decide_action(self, observation: np.ndarray) -> tuple[float, float]:
        """The forward speed (m/s) and yaw rate (rad/s) for one ``TwinNav-v0`` observation
        (the layout in the policy's ``policy.json``).

        :raise ConfigError: no policy yet
        :raise ValueError: an observation of the wrong size or with NaN/inf
        """
        if self.policy is None:
            raise ConfigError('the agent has no policy yet: train_in_twin() or load one')
        obs = np.asarray(observation, dtype=np.float32)
        if obs.shape != (self.policy.layout.size,) or not np.all(np.isfinite(obs)):
            raise ValueError(f'expected {self.policy.layout.size} finite observation values, '
                             f'got shape {obs.shape}')
        return self.policy.command(obs)
