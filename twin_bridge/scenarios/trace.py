"""What a scenario run recorded: the true motion per physics sample, the gate per command."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ['Trace']


@dataclass
class Trace:
    """A run's record, filled by the runner and frozen into arrays by :meth:`finish`.

    Per physics sample (``t``; several per command period): the true base pose ``x``, ``y``,
    ``yaw``, forward speed ``v`` and yaw rate ``w``, the smallest true robot-world distance
    ``clearance`` (m, capped at the probe's range) and the robot-world ``contact`` (``''``:
    none, else ``'robot geom / world geom'``). Per command (``tick``): the controller's
    command ``command`` ``(n, 2)``, the gate's ``command_out`` ``(n, 2)``, ``verdict`` and
    ``reason`` strings and ``time_to_collision``. ``e_stops``: the times e-stops were
    engaged; ``stop_pose``: the true ``(x, y, yaw)`` at the first stop verdict.
    """

    t: list[float] | np.ndarray = field(default_factory=list)
    x: list[float] | np.ndarray = field(default_factory=list)
    y: list[float] | np.ndarray = field(default_factory=list)
    yaw: list[float] | np.ndarray = field(default_factory=list)
    v: list[float] | np.ndarray = field(default_factory=list)
    w: list[float] | np.ndarray = field(default_factory=list)
    clearance: list[float] | np.ndarray = field(default_factory=list)
    contact: list[str] = field(default_factory=list)
    tick: list[float] | np.ndarray = field(default_factory=list)
    command: list[tuple[float, float]] | np.ndarray = field(default_factory=list)
    command_out: list[tuple[float, float]] | np.ndarray = field(default_factory=list)
    verdict: list[str] = field(default_factory=list)
    reason: list[str] = field(default_factory=list)
    time_to_collision: list[float] | np.ndarray = field(default_factory=list)
    e_stops: list[float] = field(default_factory=list)
    stop_pose: tuple[float, float, float] | None = None
    verdict_counts: dict[str, int] = field(default_factory=dict)
    reason_counts: dict[str, int] = field(default_factory=dict)

    def sample(self, t: float, pose: tuple[float, float, float], v: float, w: float,
               clearance: float, contact: str) -> None:
        """Record one physics sample."""
        self.t.append(t)  # type: ignore[union-attr]
        self.x.append(pose[0])  # type: ignore[union-attr]
        self.y.append(pose[1])  # type: ignore[union-attr]
        self.yaw.append(pose[2])  # type: ignore[union-attr]
        self.v.append(v)  # type: ignore[union-attr]
        self.w.append(w)  # type: ignore[union-attr]
        self.clearance.append(clearance)  # type: ignore[union-attr]
        self.contact.append(contact)

    def command_tick(self, t: float, command: tuple[float, float],
                     command_out: tuple[float, float], verdict: str, reason: str,
                     ttc: float) -> None:
        """Record one command and the gate's verdict on it."""
        self.tick.append(t)  # type: ignore[union-attr]
        self.command.append(command)  # type: ignore[union-attr]
        self.command_out.append(command_out)  # type: ignore[union-attr]
        self.verdict.append(verdict)
        self.reason.append(reason)
        self.time_to_collision.append(ttc)  # type: ignore[union-attr]

    def finish(self) -> Trace:
        """Turn the lists into numpy arrays (``(n, 2)`` for commands); return ``self``."""
        for name in ('t', 'x', 'y', 'yaw', 'v', 'w', 'clearance', 'tick',
                     'time_to_collision'):
            setattr(self, name, np.asarray(getattr(self, name), dtype=float))
        for name in ('command', 'command_out'):
            setattr(self, name, np.asarray(getattr(self, name), dtype=float).reshape(-1, 2))
        return self

    @property
    def sim_time(self) -> float:
        """Simulated seconds covered."""
        return float(self.t[-1]) if len(self.t) else 0.0

    @property
    def min_clearance(self) -> float:
        """The smallest true clearance of the run (m; ``inf`` without samples)."""
        return float(np.min(self.clearance)) if len(self.clearance) else float('inf')

    def first_contact(self) -> tuple[float, str] | None:
        """``(t, 'robot geom / world geom')`` of the first contact, or ``None``."""
        for t, name in zip(self.t, self.contact, strict=True):
            if name:
                return float(t), name
        return None
