"""Tests for drift.sequential on synthetic streams: false-alarm rate and detection delay."""

import math

import numpy as np
import pytest

from twin_bridge.twin.drift.sequential import (
    BernoulliCusum,
    Cusum,
    GaussianCusum,
    threshold_for_false_alarm_rate,
    wilson_hilferty,
)


def count_alarms(cusum, stream) -> int:
    alarms = 0
    for value in stream:
        if cusum.update(value):
            alarms += 1
            cusum.reset()
    return alarms


def test_threshold_from_rate():
    assert threshold_for_false_alarm_rate(1e-4) == pytest.approx(math.log(1e4))
    with pytest.raises(ValueError):
        threshold_for_false_alarm_rate(0.0)


@pytest.mark.parametrize('rate', [1e-2, 1e-3])
def test_nominal_noise_alarms_at_most_at_the_stated_rate(rate):
    stream = np.random.default_rng(1).normal(size=40_000)
    cusum = GaussianCusum(shift=1.0, false_alarm_rate=rate, max_increment=math.inf)
    assert count_alarms(cusum, stream) <= rate * len(stream)


def test_a_strict_rate_gives_no_alarm_on_nominal_noise():
    stream = np.random.default_rng(2).normal(size=40_000)
    assert count_alarms(GaussianCusum(2.0, 1e-6, two_sided=True), stream) == 0


@pytest.mark.parametrize('two_sided, sign', [(False, 1.0), (True, 1.0), (True, -1.0)])
def test_a_shift_is_detected_within_the_expected_delay(two_sided, sign):
    rng = np.random.default_rng(3)
    delays = []
    for _ in range(50):
        cusum = GaussianCusum(shift=1.0, false_alarm_rate=1e-4, two_sided=two_sided)
        for i, z in enumerate(rng.normal(sign * 1.0, 1.0, 500)):
            if cusum.update(z):
                delays.append(i + 1)
                break
    assert len(delays) == 50
    assert np.median(delays) <= 1.3 * cusum.expected_delay  # h / KL = 9.2 / 0.5 = 19


def test_one_outlier_cannot_raise_an_alarm_and_onset_marks_the_change():
    cusum = GaussianCusum(shift=2.0, false_alarm_rate=1e-6)
    assert not cusum.update(1e6)
    cusum.reset()
    for z in np.zeros(30):
        cusum.update(z - 3.0)
    for _ in range(20):
        if cusum.update(5.0):
            break
    assert cusum.onset == 30
    assert cusum.alarm


def test_bernoulli_cusum():
    rng = np.random.default_rng(4)
    nominal = rng.random(50_000) < 0.02
    assert count_alarms(BernoulliCusum(0.02, 0.5, 1e-6), nominal) == 0
    cusum = BernoulliCusum(0.02, 0.5, 1e-6)
    changed = rng.random(100) < 0.7
    first = next(i for i, e in enumerate(changed) if cusum.update(e))
    assert first < 15
    with pytest.raises(ValueError):
        BernoulliCusum(0.5, 0.2, 1e-3)


def test_wilson_hilferty_makes_chi_square_standard_normal():
    rng = np.random.default_rng(5)
    z = wilson_hilferty(rng.chisquare(3, 100_000), 3)
    assert np.mean(z) == pytest.approx(0.0, abs=0.02)
    assert np.std(z) == pytest.approx(1.0, abs=0.02)
    assert np.mean(z > 3.0) == pytest.approx(0.00135, abs=0.0005)


def test_plain_llr_cusum_clamps_at_zero():
    c = Cusum(1e-3)
    c.update_llr(-5.0)
    assert c.statistic == 0.0
    c.update_llr(2.0)
    assert c.statistic == pytest.approx(2.0)
