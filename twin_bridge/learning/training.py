"""Train a navigation policy with PPO (Stable-Baselines3, CPU torch) on the TwinNav vector env.

:func:`train` runs PPO until ``total_steps`` or ``cpu_budget`` CPU-seconds (the whole
process: physics threads, torch and Python), evaluates the policy and a random policy over
the same seeded episodes, and writes ``policy.zip`` + ``policy.json``, ``learning_curve.png``
and ``report.json`` into the output directory. Everything is seeded.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
import json
from pathlib import Path
import time
from typing import Any

import numpy as np

from twin_bridge.learning.evaluation import EvalResult, evaluate, random_policy
from twin_bridge.learning.learning_curve import plot_learning_curve
from twin_bridge.learning.nav_config import NavConfig
from twin_bridge.learning.nav_policy import save_policy
from twin_bridge.learning.nav_vector_env import TwinNavVectorEnv

__all__ = ['TrainResult', 'TrainSettings', 'train']


@dataclass(frozen=True)
class TrainSettings:
    """What :func:`train` does. ``nav`` overrides :class:`NavConfig` fields; the PPO fields
    are Stable-Baselines3's (``n_steps`` per copy per rollout); progress is logged every
    ``log_interval`` CPU-seconds."""

    world: str = 'warehouse'
    robot: str | None = None
    seed: int = 0
    num_envs: int = 32
    nthread: int | None = None
    total_steps: int = 3_000_000
    cpu_budget: float = 540.0
    eval_episodes: int = 100
    eval_envs: int = 20
    max_episode_steps: int = 300
    nav: Mapping[str, Any] = field(default_factory=dict)
    randomization: str | None = None
    n_steps: int = 32
    batch_size: int = 256
    n_epochs: int = 4
    learning_rate: float = 1e-3
    gamma: float = 0.99
    gae_lambda: float = 0.95
    ent_coef: float = 0.0
    net_arch: tuple[int, ...] = (64, 64)
    log_interval: float = 10.0


@dataclass
class TrainResult:
    """What a run produced: steps, CPU and wall seconds, evaluations, the files written."""

    steps: int
    cpu_seconds: float
    wall_seconds: float
    interrupted: bool
    policy: EvalResult | None
    random: EvalResult | None
    curve: list[dict[str, float]]
    files: dict[str, str]

    def to_mapping(self) -> dict[str, Any]:
        """Plain data (JSON)."""
        out = asdict(self)
        out['policy'] = None if self.policy is None else self.policy.to_mapping()
        out['random'] = None if self.random is None else self.random.to_mapping()
        return out


def _make_env(settings: TrainSettings, num: int, mode: str, nthread: int | None
              ) -> TwinNavVectorEnv:
    return TwinNavVectorEnv(num, world=settings.world, robot=settings.robot,
                            config=NavConfig.from_mapping(settings.nav, source='nav'),
                            randomization=settings.randomization,
                            max_episode_steps=settings.max_episode_steps,
                            nthread=nthread, autoreset_mode=mode)


def train(settings: TrainSettings, out_dir: str | Path,
          log: Callable[[str], None] = print) -> TrainResult:
    """Train, evaluate and save (see the module doc). A ``KeyboardInterrupt`` stops training
    early: what was learnt is still evaluated and saved (``interrupted`` is set)."""
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.vec_env import VecMonitor
    import torch

    from twin_bridge.learning.sb3_vec_env import Sb3NavVecEnv

    torch.set_num_threads(1)  # small networks: threads only contend with the physics
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cpu0, wall0 = time.process_time(), time.monotonic()
    env = _make_env(settings, settings.num_envs, 'same_step', settings.nthread)
    vec = VecMonitor(Sb3NavVecEnv(env))
    vec.seed(settings.seed)
    curve: list[dict[str, float]] = []

    class Progress(BaseCallback):
        """Records the learning curve per rollout (success rate and mean return of the last
        100 episodes), prints progress, keeps the CPU budget."""

        def __init__(self) -> None:
            super().__init__()
            # The last 100 episodes (per-rollout samples are a dozen episodes: noisy).
            self._successes: deque[bool] = deque(maxlen=100)
            self._returns: deque[float] = deque(maxlen=100)
            self._episodes = 0
            self._next_log = 0.0

        def _on_step(self) -> bool:
            for info in self.locals['infos']:
                if 'episode' in info:
                    self._returns.append(float(info['episode']['r']))
                    self._successes.append(bool(info.get('is_success', False)))
                    self._episodes += 1
            return time.process_time() - cpu0 < settings.cpu_budget

        def _on_rollout_end(self) -> None:
            if not self._returns:
                return
            point = {'steps': float(self.num_timesteps),
                     'cpu_seconds': time.process_time() - cpu0,
                     'success_rate': float(np.mean(self._successes)),
                     'mean_return': float(np.mean(self._returns)),
                     'episodes': float(self._episodes)}
            curve.append(point)
            if point['cpu_seconds'] < self._next_log:
                return
            self._next_log = point['cpu_seconds'] + settings.log_interval
            log(f'steps {self.num_timesteps:>9,d}  cpu {point["cpu_seconds"]:6.0f} s  '
                f'episodes {self._episodes:>6,d}  last 100: success '
                f'{point["success_rate"]:6.1%}  return {point["mean_return"]:7.2f}')

    batch = min(settings.batch_size, settings.n_steps * settings.num_envs)  # few copies
    model = PPO('MlpPolicy', vec, n_steps=settings.n_steps, batch_size=batch,
                n_epochs=settings.n_epochs, learning_rate=settings.learning_rate,
                gamma=settings.gamma, gae_lambda=settings.gae_lambda,
                ent_coef=settings.ent_coef, seed=settings.seed, device='cpu', verbose=0,
                policy_kwargs={'net_arch': list(settings.net_arch)})
    interrupted = False
    try:
        model.learn(total_timesteps=settings.total_steps, callback=Progress())
    except KeyboardInterrupt:
        interrupted = True
        log('interrupted: evaluating and saving what was learnt so far')
    finally:
        vec.close()
    steps, cpu_train = int(model.num_timesteps), time.process_time() - cpu0
    layout = env.batch.observation
    files = {'policy': str(save_policy(model, layout, out, {
        'world': settings.world, 'robot': settings.robot, 'nav': env.config.to_mapping(),
        'max_episode_steps': settings.max_episode_steps, 'steps': steps}))}
    policy_eval = random_eval = None
    if not interrupted:
        eval_env = _make_env(settings, settings.eval_envs, 'next_step', settings.nthread)
        try:
            policy_eval = evaluate(
                lambda obs: model.predict(obs, deterministic=True)[0], eval_env,
                settings.eval_episodes, seed=settings.seed + 10_000)
            random_eval = evaluate(random_policy(settings.seed), eval_env,
                                   settings.eval_episodes, seed=settings.seed + 10_000)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            eval_env.close()
    result = TrainResult(steps=steps, cpu_seconds=time.process_time() - cpu0,
                         wall_seconds=time.monotonic() - wall0, interrupted=interrupted,
                         policy=policy_eval, random=random_eval, curve=curve, files=files)
    if curve:
        files['learning_curve'] = str(plot_learning_curve(curve, out / 'learning_curve.png',
                                                          policy_eval, random_eval))
    files['report'] = str(out / 'report.json')
    report = {'settings': {**asdict(settings), 'nav': dict(settings.nav)},
              'training_cpu_seconds': cpu_train, **result.to_mapping()}
    (out / 'report.json').write_text(json.dumps(report, indent=2), encoding='utf-8')
    return result
