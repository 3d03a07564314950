"""Sequential change detection: CUSUM with its threshold from a false-alarm rate.

A log-likelihood-ratio CUSUM ``S = max(0, S + llr)`` that alarms at ``S >= h`` has an
average run length to a false alarm of at least ``exp(h)`` samples (Lorden 1971), so
``h = ln(1 / rate)`` keeps false alarms below ``rate`` per sample. The expected delay to
detect a change is about ``h / KL`` samples, ``KL`` the mean LLR increment after it.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ['BernoulliCusum', 'Cusum', 'GaussianCusum', 'threshold_for_false_alarm_rate',
           'wilson_hilferty']


def threshold_for_false_alarm_rate(rate: float) -> float:
    """CUSUM threshold ``h`` on log-likelihood ratios for at most ``rate`` alarms/sample.

    :raise ValueError: ``rate`` outside ``(0, 1)``
    """
    if not 0.0 < rate < 1.0:
        raise ValueError(f'false-alarm rate must be in (0, 1), got {rate}')
    return math.log(1.0 / rate)


def wilson_hilferty(chi2: float | np.ndarray, dof: int) -> float | np.ndarray:
    """A chi-square(``dof``) statistic mapped to an approximately standard normal score."""
    v = 2.0 / (9.0 * dof)
    return (np.cbrt(np.asarray(chi2, dtype=float) / dof) - (1.0 - v)) / math.sqrt(v)


class Cusum:
    """One-sided CUSUM of log-likelihood-ratio increments.

    The statistic keeps accumulating after an alarm (it falls back below the threshold
    once the evidence stops); :attr:`onset` is the sample index where the current run of
    evidence began (the change-point estimate). ``max_increment`` (default ``h / 2``) bounds
    what one sample can add, so no single outlier raises an alarm.

    :param false_alarm_rate: alarms per sample allowed under the nominal model
    :param max_increment: the largest increment one sample can contribute
    """

    def __init__(self, false_alarm_rate: float, max_increment: float | None = None) -> None:
        self.threshold = threshold_for_false_alarm_rate(false_alarm_rate)
        self.max_increment = self.threshold / 2 if max_increment is None else max_increment
        self.reset()

    def reset(self) -> None:
        """Back to no evidence."""
        self.statistic = 0.0
        self.count = 0
        self.onset = 0

    @property
    def alarm(self) -> bool:
        """Whether the statistic is at or above the threshold."""
        return self.statistic >= self.threshold

    def update_llr(self, llr: float) -> bool:
        """Add one log-likelihood-ratio increment; return :attr:`alarm`."""
        if self.statistic <= 0.0:
            self.onset = self.count
        self.count += 1
        self.statistic = max(0.0, self.statistic + min(float(llr), self.max_increment))
        return self.alarm


class GaussianCusum(Cusum):
    """CUSUM for a shift of a standard-normal score to mean ``shift`` (> 0).

    Increment ``shift * z - shift**2 / 2``; with ``two_sided`` a second CUSUM watches
    ``-z`` and the larger statistic counts.

    :param shift: the smallest mean shift (in standard deviations) to detect quickly
    :param false_alarm_rate: alarms per sample allowed on N(0, 1) input
    """

    def __init__(self, shift: float, false_alarm_rate: float, *, two_sided: bool = False,
                 max_increment: float | None = None) -> None:
        if not shift > 0.0:
            raise ValueError(f'shift must be > 0, got {shift}')
        self.shift = float(shift)
        self._lower = (Cusum(false_alarm_rate / 2, max_increment) if two_sided else None)
        super().__init__(false_alarm_rate / 2 if two_sided else false_alarm_rate,
                         max_increment)

    def reset(self) -> None:
        """Back to no evidence."""
        super().reset()
        if getattr(self, '_lower', None) is not None:
            self._lower.reset()

    @property
    def expected_delay(self) -> float:
        """Samples to an alarm after a shift of exactly :attr:`shift` (about ``h / KL``)."""
        kl = self.shift ** 2 / 2
        return math.ceil(self.threshold / min(kl, self.max_increment))

    @property
    def change_onset(self) -> int:
        """Sample index where the evidence of the side with the larger statistic began."""
        lower = self._lower
        if lower is not None and lower.statistic > self.statistic:
            return lower.onset
        return self.onset

    def update(self, z: float) -> bool:
        """Add one standard score; return whether either side alarms."""
        k = self.shift * self.shift / 2
        up = super().update_llr(self.shift * z - k)
        if self._lower is None:
            return up
        return self._lower.update_llr(-self.shift * z - k) or up

    @property
    def alarm(self) -> bool:
        """Whether either side is at or above its threshold."""
        lower = self._lower
        return self.statistic >= self.threshold or (lower is not None and lower.alarm)


class BernoulliCusum(Cusum):
    """CUSUM for an event rate rising from ``p0`` to ``p1`` (events: True per sample).

    :param p0: the nominal event probability per sample
    :param p1: the event probability after a change (> ``p0``)
    :param false_alarm_rate: alarms per sample allowed at ``p0``
    """

    def __init__(self, p0: float, p1: float, false_alarm_rate: float,
                 max_increment: float | None = None) -> None:
        if not 0.0 < p0 < p1 < 1.0:
            raise ValueError(f'need 0 < p0 < p1 < 1, got p0={p0}, p1={p1}')
        self._hit = math.log(p1 / p0)
        self._miss = math.log((1.0 - p1) / (1.0 - p0))
        super().__init__(false_alarm_rate, max_increment)

    def update(self, event: bool) -> bool:
        """Add one sample; return :attr:`alarm`."""
        return self.update_llr(self._hit if event else self._miss)
