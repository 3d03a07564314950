"""Lidar noise model (Gaussian core, heavy-tailed outliers, dropouts, bias, angular jitter)
and its fit to recorded per-beam residuals."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
import math

import numpy as np

from twin_bridge.errors import ConfigError

__all__ = ['LidarNoise', 'fit_lidar_noise', 'ks_distance', 'normal_cdf']

#: Fields that are probabilities (at most 1).
_FRACTIONS = ('dropout', 'outlier_fraction')
#: Fields that may be negative.
_SIGNED = ('range_bias',)


@dataclass(frozen=True)
class LidarNoise:
    """How a real lidar's ranges differ from an exact cast; every default means "no noise".

    A hit's range gets ``range_bias`` plus zero-mean noise: Gaussian with ``range_stddev``,
    or, with probability ``outlier_fraction``, Gaussian with ``outlier_stddev`` (a scale
    mixture: the heavy tails mis-timed or mixed-pixel returns give). ``dropout`` is the
    probability that a beam returns nothing (REP-117 ``+inf``). ``angle_jitter`` is the
    standard deviation (rad) of one angular offset drawn per scan: the whole scan is read at
    beam angles shifted by it (see :meth:`apply`, :meth:`draw_angle_offset`).
    """

    range_stddev: float = 0.0
    dropout: float = 0.0
    range_bias: float = 0.0
    angle_jitter: float = 0.0
    outlier_fraction: float = 0.0
    outlier_stddev: float = 0.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigError(f'lidar noise {f.name}: expected a number, got {value!r}')
            if not math.isfinite(value):
                raise ConfigError(f'lidar noise {f.name}: expected a finite number, got {value}')
            if f.name not in _SIGNED and value < 0:
                raise ConfigError(f'lidar noise {f.name}: must be >= 0, got {value}')
            if f.name in _FRACTIONS and value > 1:
                raise ConfigError(f'lidar noise {f.name}: a probability must be <= 1, got '
                                  f'{value}')
            object.__setattr__(self, f.name, float(value))

    @classmethod
    def from_mapping(cls, cfg: Mapping[str, float], *, where: str = 'lidar noise') -> LidarNoise:
        """A model from a mapping of field names to numbers (e.g. a YAML block).

        :param where: names the source in errors (e.g. ``"noise.yaml: lidar"``)
        :raise ConfigError: not a mapping, an unknown key, a non-number, NaN or a negative
            value (the message names the key)
        """
        if not isinstance(cfg, Mapping):
            raise ConfigError(f'{where}: expected a mapping of noise parameters, got '
                              f'{type(cfg).__name__}')
        known = {f.name for f in fields(cls)}
        unknown = sorted(str(k) for k in cfg if k not in known)
        if unknown:
            raise ConfigError(f'{where}: unknown key(s) {", ".join(unknown)}; known: '
                              f'{", ".join(sorted(known))}')
        try:
            return cls(**{str(k): v for k, v in cfg.items()})
        except ConfigError as exc:
            raise ConfigError(f'{where}: {str(exc).removeprefix("lidar noise ")}') from None

    def to_mapping(self) -> dict[str, float]:
        """The fields as a plain dict (what :meth:`from_mapping` reads)."""
        return asdict(self)

    @property
    def is_zero(self) -> bool:
        """True when :meth:`apply` returns the ranges unchanged."""
        return self == LidarNoise()

    def draw_angle_offset(self, rng: np.random.Generator) -> float:
        """One scan's angular offset (rad), for callers that cast at jittered angles."""
        return float(rng.normal(0.0, self.angle_jitter)) if self.angle_jitter > 0 else 0.0

    def sample_residuals(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` range errors (m) of hits: bias plus the Gaussian scale mixture."""
        noise = rng.normal(0.0, 1.0, n)
        scale = np.full(n, self.range_stddev)
        if self.outlier_fraction > 0:
            scale[rng.random(n) < self.outlier_fraction] = self.outlier_stddev
        return self.range_bias + noise * scale

    def apply(self, ranges: np.ndarray, rng: np.random.Generator, range_max: float, *,
              range_min: float = 0.0, angle_increment: float | None = None) -> np.ndarray:
        """A noisy copy of REP-117 ``ranges`` (``+inf`` no return, ``-inf`` too close).

        Order: the scan is shifted by the per-scan angular offset (linear interpolation
        between neighbouring hits, nearest beam next to a non-hit), then every hit gets
        bias and noise, then each beam drops out with probability ``dropout``. A hit pushed
        beyond ``range_max`` becomes ``+inf``, below ``range_min`` ``-inf``; non-hits keep
        their value unless they drop out, NaN (invalid) stays NaN. Float input keeps its dtype.

        :param ranges: 1-D ranges (not modified)
        :param rng: the only source of randomness
        :param range_max: the lidar's maximum range
        :param range_min: the lidar's minimum range
        :param angle_increment: angle between beams (rad); required when ``angle_jitter > 0``
        :raise ValueError: ``ranges`` not 1-D, or ``angle_jitter`` without ``angle_increment``
        """
        src = np.asarray(ranges)
        if src.ndim != 1:
            raise ValueError(f'ranges: expected a 1-D array, got shape {src.shape}')
        dtype = src.dtype if np.issubdtype(src.dtype, np.floating) else np.float64
        out = src.astype(np.float64, copy=True)
        if self.angle_jitter > 0:
            if angle_increment is None or not angle_increment > 0:
                raise ValueError('angle_jitter needs the scan\'s angle_increment (> 0), got '
                                 f'{angle_increment}')
            out = _shift_scan(out, self.draw_angle_offset(rng) / angle_increment)
        hit = np.isfinite(out)
        n_hit = int(np.count_nonzero(hit))
        if n_hit and (self.range_stddev > 0 or self.outlier_fraction > 0
                      or self.range_bias != 0):
            values = out[hit] + self.sample_residuals(n_hit, rng)
            values[values > range_max] = np.inf
            values[values < range_min] = -np.inf
            out[hit] = values
        if self.dropout > 0:
            dropped = rng.random(out.shape[0]) < self.dropout
            out[dropped & ~np.isnan(out)] = np.inf
        return out.astype(dtype, copy=False)


def _shift_scan(ranges: np.ndarray, shift: float) -> np.ndarray:
    """Ranges read ``shift`` beams further along (fractional); beams past either end keep
    the end beam; interpolation only between two hits, else the nearest beam."""
    n = ranges.shape[0]
    pos = np.clip(np.arange(n) + shift, 0.0, n - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, n - 1)
    frac = pos - lo
    a, b = ranges[lo], ranges[hi]
    both = np.isfinite(a) & np.isfinite(b)
    with np.errstate(invalid='ignore'):
        mixed = a + (b - a) * frac
    return np.where(both, mixed, np.where(frac < 0.5, a, b))


def normal_cdf(x: np.ndarray) -> np.ndarray:
    """The standard normal CDF, vectorised (``erf`` per element; no SciPy needed)."""
    x = np.asarray(x, dtype=float)
    erf = np.frompyfunc(math.erf, 1, 1)
    return 0.5 * (1.0 + erf(x / math.sqrt(2.0)).astype(float))


def ks_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov distance: the largest gap between empirical CDFs.

    :raise ValueError: an empty sample or a non-finite value
    """
    a = np.sort(np.asarray(a, dtype=float).ravel())
    b = np.sort(np.asarray(b, dtype=float).ravel())
    if a.size == 0 or b.size == 0 or not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError('ks_distance: both samples must be non-empty and finite')
    grid = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, grid, side='right') / a.size
    cdf_b = np.searchsorted(b, grid, side='right') / b.size
    return float(np.max(np.abs(cdf_a - cdf_b)))


def _model_ks(sorted_res: np.ndarray, mean: float, weights: np.ndarray,
              sigmas: np.ndarray) -> float:
    """One-sample KS distance of sorted residuals from a Gaussian scale mixture."""
    n = sorted_res.size
    cdf = np.zeros(n)
    for w, s in zip(weights, sigmas, strict=True):
        cdf += w * (normal_cdf((sorted_res - mean) / s) if s > 0
                    else (sorted_res >= mean).astype(float))
    upper = np.arange(1, n + 1) / n
    return float(max(np.max(upper - cdf), np.max(cdf - (upper - 1.0 / n))))


def _fit_mixture(res: np.ndarray, iterations: int = 200) -> tuple[float, np.ndarray, np.ndarray]:
    """EM for a two-component Gaussian scale mixture with a shared mean.

    :return: mean, weights (core, outlier), standard deviations (core, outlier)
    """
    mean = float(np.median(res))
    mad = 1.4826 * float(np.median(np.abs(res - mean)))
    core = max(mad, 1e-9)
    wide = max(float(np.std(res)) * 2.0, core * 3.0)
    w = np.array([0.9, 0.1])
    s = np.array([core, wide])
    for _ in range(iterations):
        z = (res[:, None] - mean) / s[None, :]
        dens = w[None, :] * np.exp(-0.5 * z * z) / s[None, :]
        total = dens.sum(axis=1, keepdims=True)
        total[total == 0] = 1e-300
        resp = dens / total
        nk = resp.sum(axis=0)
        if np.any(nk < 1e-9):
            break
        w_new = nk / res.size
        prec = resp / (s[None, :] ** 2)
        mean = float(np.sum(prec * res[:, None]) / np.sum(prec))
        s_new = np.sqrt(np.sum(resp * (res[:, None] - mean) ** 2, axis=0) / nk)
        s_new = np.maximum(s_new, 1e-9)
        done = np.allclose(s_new, s, rtol=1e-6) and np.allclose(w_new, w, atol=1e-8)
        w, s = w_new, s_new
        if done:
            break
    order = np.argsort(s)
    return mean, w[order], s[order]


def fit_lidar_noise(residuals: np.ndarray, *, dropouts: int = 0,
                    ks_target: float = 0.02, min_samples: int = 50) -> LidarNoise:
    """Fit a :class:`LidarNoise` to per-beam residuals (physical minus virtual range, m).

    The bias is the mean and the noise a single Gaussian when that already matches the
    residuals' empirical CDF within ``ks_target`` (one-sample KS distance); otherwise a
    two-component Gaussian scale mixture (EM), whichever fits closer. NaN residuals (beams
    where one side had no hit) are ignored; ``dropouts`` counts beams where the twin hit
    and the physical lidar returned nothing, giving ``dropout``. Angular jitter cannot be
    told from range noise by residuals alone and is left 0.

    :param residuals: residuals of beams where both hit (any shape; NaN ignored)
    :param dropouts: beams the twin hit but the physical lidar missed
    :param ks_target: a single Gaussian within this KS distance is kept
    :param min_samples: fewest finite residuals a fit needs
    :raise ValueError: fewer than ``min_samples`` finite residuals, infinite residuals, or a
        negative ``dropouts``
    """
    res = np.asarray(residuals, dtype=float).ravel()
    res = res[~np.isnan(res)]
    if not np.all(np.isfinite(res)):
        raise ValueError('residuals: infinite values (pass NaN for beams without two hits)')
    if res.size < min_samples:
        raise ValueError(f'residuals: {res.size} finite values, a fit needs at least '
                         f'{min_samples}')
    if dropouts < 0:
        raise ValueError(f'dropouts must be >= 0, got {dropouts}')
    dropout = dropouts / (dropouts + res.size)
    ordered = np.sort(res)
    mean, std = float(np.mean(res)), float(np.std(res))
    gauss_ks = _model_ks(ordered, mean, np.array([1.0]), np.array([std]))
    single = LidarNoise(range_stddev=std, range_bias=mean, dropout=dropout)
    if gauss_ks <= ks_target or std == 0.0:
        return single
    m_mean, weights, sigmas = _fit_mixture(res)
    mix_ks = _model_ks(ordered, m_mean, weights, sigmas)
    if mix_ks >= gauss_ks:
        return single
    return LidarNoise(range_stddev=float(sigmas[0]), range_bias=m_mean, dropout=dropout,
                      outlier_fraction=float(weights[1]), outlier_stddev=float(sigmas[1]))
