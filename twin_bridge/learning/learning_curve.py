"""The learning-curve figure of a training run (PNG, matplotlib Agg)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use('Agg')
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from twin_bridge.learning.evaluation import EvalResult

__all__ = ['plot_learning_curve']


def plot_learning_curve(curve: Sequence[dict[str, float]], path: str | Path,
                        policy: EvalResult | None = None,
                        random: EvalResult | None = None) -> Path:
    """Success rate and mean return per rollout against env steps (and CPU seconds on top),
    with the final evaluations as horizontal lines; written to ``path``."""
    steps = [p['steps'] for p in curve]
    figure = Figure(figsize=(9, 4), dpi=100)
    FigureCanvasAgg(figure)
    left, right = figure.subplots(1, 2)
    left.plot(steps, [100 * p['success_rate'] for p in curve], color='tab:green',
              label='training (last 100 episodes)')
    if policy is not None:
        left.axhline(100 * policy.success_rate, color='tab:blue', ls='--',
                     label=f'eval policy {policy.success_rate:.0%}')
    if random is not None:
        left.axhline(100 * random.success_rate, color='tab:red', ls=':',
                     label=f'eval random {random.success_rate:.0%}')
    left.set_xlabel('env steps')
    left.set_ylabel('goal reached (%)')
    left.set_ylim(-2, 102)
    left.legend(loc='lower right', fontsize=8)
    right.plot(steps, [p['mean_return'] for p in curve], color='tab:purple')
    if policy is not None:
        right.axhline(policy.mean_return, color='tab:blue', ls='--')
    if random is not None:
        right.axhline(random.mean_return, color='tab:red', ls=':')
    right.set_xlabel('env steps')
    right.set_ylabel('episode return')
    if curve:
        cpu = curve[-1]['cpu_seconds']
        figure.suptitle(f'TwinNav PPO: {int(steps[-1]):,d} steps in {cpu:.0f} CPU-s')
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path)
    return path
