"""Planar rigid transforms as ``(x, y, yaw)`` arrays."""

from __future__ import annotations

import math

import numpy as np

__all__ = ['compose', 'inverse', 'relative', 'wrap']


def wrap(angle: float | np.ndarray) -> float | np.ndarray:
    """Angle(s) wrapped to ``[-pi, pi)``."""
    return (np.asarray(angle) + math.pi) % (2.0 * math.pi) - math.pi


def compose(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a * b``: ``b`` (in ``a``'s frame) expressed in ``a``'s parent frame."""
    c, s = math.cos(a[2]), math.sin(a[2])
    return np.array([a[0] + c * b[0] - s * b[1], a[1] + s * b[0] + c * b[1],
                     float(wrap(a[2] + b[2]))])


def inverse(a: np.ndarray) -> np.ndarray:
    """The inverse transform of ``a``."""
    c, s = math.cos(a[2]), math.sin(a[2])
    return np.array([-c * a[0] - s * a[1], s * a[0] - c * a[1], float(wrap(-a[2]))])


def relative(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a^-1 * b``: ``b`` expressed in the frame ``a``."""
    return compose(inverse(a), b)
