"""Scripted robot motions as pure functions of time, for the stand-in physical robot.

A motion is a planar base trajectory (pose, twist, travelled distance and unwrapped heading)
plus sinusoidal sweeps of the non-wheel joints. Wheel angles follow from the base motion by
differential-drive kinematics, so every published quantity is consistent with every other:
the odometry pose is the integral of the odometry twist, and the wheel angles are the
integrals of the wheel rates ``(v -+ w * b / 2) / r``.

The figure-eight drives at constant speed ``v`` with heading ``a * sin(2 pi t / T)``. With
``a`` the first zero of the Bessel function ``J0`` the path closes after one period, and the
position has an exact Fourier-Bessel series (Jacobi-Anger expansion), so poses are evaluated
in closed form rather than by numerical integration.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
import math

import numpy as np

from twin_bridge.core.state import JointStateSample, OdometrySample

__all__ = [
    'BaseMotion',
    'CMD_VEL_MOTION',
    'DiffDriveGeometry',
    'FigureEight',
    'JointSweep',
    'MeasurementNoise',
    'MAX_RATE_HZ',
    'MOTIONS',
    'ScriptedMotion',
    'StandStill',
    'make_motion',
]

#: Highest joint_states/odom rate (Hz) the stand-in robot publishes at.
MAX_RATE_HZ = 2000.0

#: First positive zero of J0: the heading amplitude for which the figure-eight closes.
FIGURE_EIGHT_HEADING_AMPLITUDE = 2.404825557695773

#: Motion names accepted by :func:`make_motion`.
MOTIONS = ('figure_eight', 'sweep', 'still')
#: The motion that follows velocity commands (:mod:`twin_bridge.stand_in.cmd_vel_motion`).
CMD_VEL_MOTION = 'cmd_vel'


def _bessel_j(orders: np.ndarray, x: float, nodes: int = 128) -> np.ndarray:
    """Bessel functions of the first kind ``J_n(x)`` for integer ``orders``.

    Uses ``J_n(x) = 1/(2 pi) * integral_0^2pi cos(n tau - x sin tau) dtau``; the integrand is
    smooth and periodic, so the trapezoid rule on ``nodes`` points converges to machine
    precision for the small orders used here.
    """
    tau = np.linspace(0.0, 2.0 * np.pi, nodes, endpoint=False)
    return np.cos(np.outer(orders, tau) - x * np.sin(tau)).mean(axis=1)


@dataclass(frozen=True)
class DiffDriveGeometry:
    """Wheel radius and separation (m) of a differential-drive base."""

    wheel_radius: float = 0.06
    wheel_separation: float = 0.32

    def wheel_rates(self, linear: np.ndarray | float,
                    angular: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        """Left and right wheel rates (rad/s) for body speed ``linear`` and yaw rate ``angular``."""
        half = 0.5 * self.wheel_separation * np.asarray(angular, dtype=float)
        linear = np.asarray(linear, dtype=float)
        return (linear - half) / self.wheel_radius, (linear + half) / self.wheel_radius

    def wheel_angles(self, distance: np.ndarray | float,
                     heading: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        """Left and right wheel angles (rad) after travelling ``distance`` along the path while
        turning by the unwrapped ``heading`` (both from zero), i.e. integrated wheel rates."""
        half = 0.5 * self.wheel_separation * np.asarray(heading, dtype=float)
        distance = np.asarray(distance, dtype=float)
        return (distance - half) / self.wheel_radius, (distance + half) / self.wheel_radius


@dataclass(frozen=True)
class BaseMotion:
    """Planar base state at one time (floats) or many times (arrays of equal shape).

    ``yaw`` is unwrapped (continuous); ``distance`` is the signed path length travelled since
    ``t = 0``; ``linear`` (m/s, along the body x axis) and ``angular`` (rad/s, about z) are the
    twist in the body frame.
    """

    x: np.ndarray
    y: np.ndarray
    yaw: np.ndarray
    linear: np.ndarray
    angular: np.ndarray
    distance: np.ndarray


class FigureEight:
    """A closed figure-eight driven at constant ``speed`` (m/s) once every ``period`` seconds.

    Starts at the origin heading along +x, first turning left. The figure spans about
    ``0.28 * speed * period`` across and ``0.75 * speed * period`` along y.
    """

    def __init__(self, speed: float = 0.5, period: float = 20.0, terms: int = 24) -> None:
        if not (math.isfinite(speed) and math.isfinite(period) and period > 0):
            raise ValueError(f'figure-eight needs finite speed and period > 0, got '
                             f'speed={speed!r}, period={period!r}')
        self.speed = float(speed)
        self.period = float(period)
        self.omega = 2.0 * np.pi / self.period
        amplitude = FIGURE_EIGHT_HEADING_AMPLITUDE
        self._amplitude = amplitude
        self._j0 = float(_bessel_j(np.array([0]), amplitude)[0])
        # x = v J0 t + 2v/W sum_k J_2k sin(2k W t) / 2k; y = 2v/W sum_k J_2k+1 (1 - cos) / (2k+1)
        self._even = np.arange(2, 2 * terms + 1, 2)
        self._odd = np.arange(1, 2 * terms, 2)
        scale = 2.0 * self.speed / self.omega
        self._even_coef = scale * _bessel_j(self._even, amplitude) / self._even
        self._odd_coef = scale * _bessel_j(self._odd, amplitude) / self._odd

    def __call__(self, t: np.ndarray | float) -> BaseMotion:
        """The base state at time(s) ``t`` (s)."""
        t = np.asarray(t, dtype=float)
        phase = self.omega * t
        x = (self.speed * self._j0 * t
             + np.sin(np.multiply.outer(phase, self._even)) @ self._even_coef)
        y = (1.0 - np.cos(np.multiply.outer(phase, self._odd))) @ self._odd_coef
        yaw = self._amplitude * np.sin(phase)
        angular = self._amplitude * self.omega * np.cos(phase)
        linear = np.full_like(t, self.speed)
        return BaseMotion(x, y, yaw, linear, angular, self.speed * t)


class StandStill:
    """A base that never moves."""

    def __call__(self, t: np.ndarray | float) -> BaseMotion:
        """The (constant, zero) base state at time(s) ``t``."""
        zero = np.zeros_like(np.asarray(t, dtype=float))
        return BaseMotion(zero, zero, zero, zero, zero, zero)


@dataclass(frozen=True)
class JointSweep:
    """Sinusoidal sweeps ``center + amplitude * sin(2 pi * harmonic * t / period)`` per joint.

    Joint ``i`` runs at harmonic ``i + 1`` so several joints trace a Lissajous pattern.
    """

    names: tuple[str, ...]
    centers: np.ndarray
    amplitudes: np.ndarray
    period: float = 8.0

    @classmethod
    def within_limits(cls, names: Sequence[str], lower: Sequence[float | None],
                      upper: Sequence[float | None], period: float = 8.0,
                      margin: float = 0.1, unlimited_amplitude: float = 1.0) -> JointSweep:
        """Sweeps that use ``1 - margin`` of each joint's range around its middle.

        A joint without finite limits sweeps ``+-unlimited_amplitude`` around zero.
        """
        if not 0.0 <= margin < 1.0:
            raise ValueError(f'margin must be in [0, 1), got {margin!r}')
        centers, amplitudes = [], []
        for name, lo, hi in zip(names, lower, upper, strict=True):
            lo = -math.inf if lo is None else float(lo)
            hi = math.inf if hi is None else float(hi)
            if math.isfinite(lo) and math.isfinite(hi):
                if hi < lo:
                    raise ValueError(f'joint {name!r}: upper limit {hi} below lower limit {lo}')
                centers.append(0.5 * (lo + hi))
                amplitudes.append(0.5 * (1.0 - margin) * (hi - lo))
            else:
                centers.append(0.0)
                amplitudes.append(unlimited_amplitude)
        return cls(tuple(names), np.array(centers), np.array(amplitudes), float(period))

    @property
    def _rates(self) -> np.ndarray:
        return 2.0 * np.pi * np.arange(1, len(self.names) + 1) / self.period

    def positions(self, t: float) -> np.ndarray:
        """Joint positions at time ``t``, in :attr:`names` order."""
        return self.centers + self.amplitudes * np.sin(self._rates * t)

    def velocities(self, t: float) -> np.ndarray:
        """Joint velocities at time ``t`` (time derivative of :meth:`positions`)."""
        rates = self._rates
        return self.amplitudes * rates * np.cos(rates * t)


class ScriptedMotion:
    """A whole robot's scripted state: a base motion, its wheels and swept joints.

    ``joint_names`` is the order of published joint states; the wheel joints (if any) follow
    the base by diff-drive kinematics, joints in ``sweep`` follow it, the rest stay at zero.
    """

    def __init__(self, joint_names: Sequence[str],
                 base: Callable[[np.ndarray | float], BaseMotion],
                 sweep: JointSweep | None = None, wheel_joints: tuple[str, str] | None = None,
                 geometry: DiffDriveGeometry | None = None) -> None:
        self.joint_names = tuple(joint_names)
        self.base = base
        self.geometry = geometry or DiffDriveGeometry()
        index = {name: i for i, name in enumerate(self.joint_names)}
        unknown = [n for n in (*(wheel_joints or ()), *(sweep.names if sweep else ()))
                   if n not in index]
        if unknown:
            raise ValueError(f'scripted joints {unknown} are not among {self.joint_names}')
        self._wheels = (np.array([index[n] for n in wheel_joints], dtype=int)
                        if wheel_joints else None)
        self.sweep = sweep
        self._swept = (np.array([index[n] for n in sweep.names], dtype=int)
                       if sweep and sweep.names else None)

    def odometry(self, t: float, stamp_ns: int = 0) -> OdometrySample:
        """The base pose (odom frame) and body twist at time ``t``."""
        b = self.base(t)
        yaw = float(b.yaw)
        return OdometrySample(
            position=np.array([float(b.x), float(b.y), 0.0]),
            orientation=np.array([0.0, 0.0, math.sin(0.5 * yaw), math.cos(0.5 * yaw)]),
            linear_velocity=np.array([float(b.linear), 0.0, 0.0]),
            angular_velocity=np.array([0.0, 0.0, float(b.angular)]),
            stamp_ns=stamp_ns,
        )

    def joint_state(self, t: float, stamp_ns: int = 0) -> JointStateSample:
        """Positions and velocities of every joint in :attr:`joint_names` at time ``t``."""
        n = len(self.joint_names)
        positions, velocities = np.zeros(n), np.zeros(n)
        if self._wheels is not None:
            b = self.base(t)
            positions[self._wheels] = self.geometry.wheel_angles(b.distance, b.yaw)
            velocities[self._wheels] = self.geometry.wheel_rates(b.linear, b.angular)
        if self._swept is not None:
            positions[self._swept] = self.sweep.positions(t)
            velocities[self._swept] = self.sweep.velocities(t)
        return JointStateSample(self.joint_names, positions, velocities, stamp_ns=stamp_ns)


class MeasurementNoise:
    """Zero-mean Gaussian noise on measured positions, from one seeded ``numpy`` Generator.

    The same seed and the same sequence of calls give the same noise.
    """

    def __init__(self, stddev: float = 0.0, seed: int | None = None) -> None:
        if not (math.isfinite(stddev) and stddev >= 0.0):
            raise ValueError(f'noise stddev must be finite and >= 0, got {stddev!r}')
        self.stddev = float(stddev)
        self.rng = np.random.default_rng(seed)

    def joint_state(self, sample: JointStateSample) -> JointStateSample:
        """``sample`` with noisy positions (velocities unchanged)."""
        if self.stddev == 0.0:
            return sample
        noisy = sample.positions + self.rng.normal(0.0, self.stddev, sample.positions.shape)
        return JointStateSample(sample.names, noisy, sample.velocities, sample.efforts,
                                sample.stamp_ns)

    def odometry(self, sample: OdometrySample) -> OdometrySample:
        """``sample`` with noisy x, y and yaw (twist unchanged)."""
        if self.stddev == 0.0:
            return sample
        dx, dy, dyaw = self.rng.normal(0.0, self.stddev, 3)
        q = sample.orientation
        yaw = math.atan2(2.0 * (q[3] * q[2] + q[0] * q[1]), 1.0 - 2.0 * (q[1] ** 2 + q[2] ** 2))
        yaw += dyaw
        return OdometrySample(
            position=sample.position + np.array([dx, dy, 0.0]),
            orientation=np.array([0.0, 0.0, math.sin(0.5 * yaw), math.cos(0.5 * yaw)]),
            linear_velocity=sample.linear_velocity,
            angular_velocity=sample.angular_velocity,
            stamp_ns=sample.stamp_ns,
            frame_id=sample.frame_id,
            child_frame_id=sample.child_frame_id,
        )


def make_motion(kind: str, joints: Sequence[tuple[str, float | None, float | None]],
                wheel_joints: tuple[str, str] | None = None, *, speed: float = 0.3,
                period: float = 20.0, sweep_period: float = 8.0,
                geometry: DiffDriveGeometry | None = None,
                base: Callable[[np.ndarray | float], BaseMotion] | None = None
                ) -> ScriptedMotion:
    """Build a named motion for a robot.

    :param kind: ``'figure_eight'`` (drive a figure-eight, sweep the other joints),
        ``'sweep'`` (base still, sweep the other joints), ``'still'`` (joints at zero, or
        at the nearest limit when zero is outside it) or ``'cmd_vel'`` (the base is
        ``base``, e.g. a :class:`~twin_bridge.stand_in.cmd_vel_motion.CmdVelBase`; the
        other joints held as with ``'still'``).
    :param joints: ``(name, lower, upper)`` of every movable joint, in publishing order.
    :param wheel_joints: ``(left, right)`` wheel joint names, or ``None`` for no wheels.
    :param speed: forward speed of the figure-eight (m/s).
    :param period: seconds per figure-eight.
    :param sweep_period: seconds per sweep of the first swept joint.
    :param base: the base of ``'cmd_vel'`` (required there, ignored otherwise).
    :raise ValueError: unknown ``kind``, ``'cmd_vel'`` without a base, inconsistent joints.
    """
    if kind not in (*MOTIONS, CMD_VEL_MOTION):
        raise ValueError(f'unknown motion {kind!r}; expected one of '
                         f'{", ".join((*MOTIONS, CMD_VEL_MOTION))}')
    names = [name for name, _, _ in joints]
    wheels = set(wheel_joints or ())
    others = [(n, lo, hi) for n, lo, hi in joints if n not in wheels]
    sweep = None
    if others:
        sweep = JointSweep.within_limits([n for n, _, _ in others], [lo for _, lo, _ in others],
                                         [hi for _, _, hi in others], period=sweep_period)
    if kind == 'cmd_vel' and base is None:
        raise ValueError("motion 'cmd_vel' needs the base that follows the commands")
    if kind in ('still', 'cmd_vel') and sweep is not None:  # hold zero, or the nearest limit
        lower = np.array([-math.inf if lo is None else lo for _, lo, _ in others], dtype=float)
        upper = np.array([math.inf if hi is None else hi for _, _, hi in others], dtype=float)
        sweep = JointSweep(sweep.names, np.clip(0.0, lower, upper), np.zeros(len(others)),
                           sweep_period)
    if kind != 'cmd_vel':
        base = FigureEight(speed, period) if kind == 'figure_eight' else StandStill()
    assert base is not None
    return ScriptedMotion(names, base, sweep, wheel_joints, geometry)
