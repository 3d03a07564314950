"""Controllers a scenario can name: what they observe, loading an entry point, an example."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import importlib
import math

from twin_bridge.core.lidar import ScanData
from twin_bridge.errors import ConfigError

__all__ = ['Controller', 'Observation', 'go_to_goal', 'load_controller']


@dataclass(frozen=True)
class Observation:
    """What a controller sees each command period.

    ``t``: sim time (s); ``pose``: ``(x, y, yaw)`` as the robot's odometry reports it (faults
    included); ``velocity``: ``(v, w)`` measured; ``scan``: the latest physical scan (``None``
    before one); ``goal``: ``(x, y)`` or ``None``; ``verdict``/``reason``: the gate's last.
    """

    t: float
    pose: tuple[float, float, float]
    velocity: tuple[float, float]
    scan: ScanData | None
    goal: tuple[float, float] | None
    verdict: str = ''
    reason: str = ''


#: A controller: an observation in, a ``(v, w)`` command (m/s, rad/s) out.
Controller = Callable[[Observation], tuple[float, float]]


def load_controller(entry_point: str, args: dict[str, object] | None = None,
                    where: str = 'controller') -> Controller:
    """The callable ``'package.module:function'`` names; with ``args`` it is a factory,
    called once with them as keyword arguments to make the controller.

    :raise ConfigError: the module or attribute is missing, or it is not callable
    """
    module_name, _, attr = entry_point.partition(':')
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f'{where}: cannot import {module_name!r}: {exc}') from exc
    target: object = module
    for part in attr.split('.'):
        if not hasattr(target, part):
            raise ConfigError(f'{where}: {module_name!r} has no {attr!r}')
        target = getattr(target, part)
    if args is not None:
        if not callable(target):
            raise ConfigError(f'{where}: {entry_point!r} is not callable')
        try:
            target = target(**args)
        except TypeError as exc:
            raise ConfigError(f'{where}.args: {entry_point!r}: {exc}') from exc
    if not callable(target):
        raise ConfigError(f'{where}: {entry_point!r} is not callable')
    return target  # type: ignore[return-value]


def go_to_goal(speed: float = 0.5, turn_gain: float = 2.0, max_turn: float = 1.5
               ) -> Controller:
    """An example controller: turn towards the goal and drive at ``speed`` (slower while
    the heading error is large), stop at the goal. Use as
    ``{entry_point: "twin_bridge.scenarios.controllers:go_to_goal", args: {speed: 0.5}}``."""

    def control(obs: Observation) -> tuple[float, float]:
        if obs.goal is None:
            return 0.0, 0.0
        x, y, yaw = obs.pose
        dx, dy = obs.goal[0] - x, obs.goal[1] - y
        if math.hypot(dx, dy) < 0.05:
            return 0.0, 0.0
        error = math.atan2(math.sin(math.atan2(dy, dx) - yaw), math.cos(math.atan2(dy, dx) - yaw))
        w = max(-max_turn, min(max_turn, turn_gain * error))
        v = speed * max(0.0, math.cos(error)) * min(1.0, math.hypot(dx, dy) / 0.3)
        return v, w

    return control
