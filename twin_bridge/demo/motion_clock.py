"""When the stand-in robot's clock started, from where its scripted figure-eight put it.

physical_sim's faults switch on ``at`` seconds after its own start, which it logs only once
its scan world is loaded (~0.3 s later). Its odometry before any fault is the figure-eight
at ``stamp - start`` exactly, so the start is the shift that lays the first odometry
samples onto the figure-eight.
"""

from __future__ import annotations

import numpy as np

from twin_bridge.stand_in.motion_profiles import FigureEight

__all__ = ['MAX_FIT_RMS_M', 'figure_eight_start']

#: A fit whose samples lie further than this (m, RMS) from the figure-eight is not used
#: (noise, a fault already on, another motion).
MAX_FIT_RMS_M = 0.01


def _cost(figure: FigureEight, points: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Mean squared distance of ``points`` from the figure-eight started at each of ``starts``."""
    t = points[None, :, 1] - starts[:, None]  # (starts, samples)
    motion = figure(np.clip(t, 0.0, None).ravel())
    dx = motion.x.reshape(t.shape) - points[None, :, 2]
    dy = motion.y.reshape(t.shape) - points[None, :, 3]
    return np.where(t >= 0, dx ** 2 + dy ** 2, np.inf).mean(axis=1)


def figure_eight_start(points: np.ndarray, speed: float, near: float, *,
                       before_s: float = 3.0, after_s: float = 0.2, step_s: float = 5e-4,
                       figure: FigureEight | None = None) -> float | None:
    """The wall time (s) the figure-eight of ``points`` started, searched within
    ``[near - before_s, near + after_s]`` (every 10 ms, then every ``step_s`` around the
    best); ``None`` if no shift fits within :data:`MAX_FIT_RMS_M`.

    :param points: ``(N, 4)`` odometry samples (receive time, stamp s, x, y)
    :param speed: the figure-eight's speed (m/s); ``figure`` (default ``FigureEight(speed)``,
        physical_sim's default period) overrides it
    :param near: a rough start (e.g. physical_sim's start-up log line)
    """
    points = np.asarray(points, dtype=float).reshape(-1, 4)
    if len(points) < 3 or speed <= 0:
        return None
    figure = figure or FigureEight(speed)
    coarse = 0.01
    starts = np.arange(near - before_s, near + after_s, coarse)
    best = float(starts[int(np.argmin(_cost(figure, points, starts)))])
    starts = np.arange(best - coarse, best + coarse, step_s)
    cost = _cost(figure, points, starts)
    i = int(np.argmin(cost))
    if not np.sqrt(cost[i]) <= MAX_FIT_RMS_M:
        return None
    return float(starts[i])
