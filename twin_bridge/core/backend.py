"""The one small interface every simulator backend implements."""

from __future__ import annotations

from abc import ABC, abstractmethod

from twin_bridge.core.lidar import LidarSpec, ScanData
from twin_bridge.core.state import JointStateSample, OdometrySample

__all__ = ['SimulatorBackend']


class SimulatorBackend(ABC):
    """A simulated robot in a world that can mirror a physical state and sense.

    Construction loads the world and the robot. ``mirror`` is cheap and never blocks on the
    simulator (latest wins). Sensing methods return the twin's current view; stamps in the
    returned samples are 0 — the caller stamps them (see README, "Header stamps").
    """

    @property
    @abstractmethod
    def joint_names(self) -> tuple[str, ...]:
        """Names of the robot's movable (non-fixed) joints, in a stable order."""

    @property
    @abstractmethod
    def lidar(self) -> LidarSpec | None:
        """The robot's lidar, or ``None`` when it has none."""

    @abstractmethod
    def mirror(self, odometry: OdometrySample | None = None,
               joints: JointStateSample | None = None) -> None:
        """Put the twin in the given base pose and/or joint positions (any subset of joints).

        The caller (:class:`~twin_bridge.twin.twin_session.TwinSession`) has validated and
        converted every input once, so a backend checks nothing of it again:

        - ``odometry`` is the pose and twist of the robot's **root link** in the odom frame
          (its ``child_frame_id`` is not looked at); every value is finite and bounded, and
          ``orientation`` is a unit ``(x, y, z, w)`` quaternion, to be stored as given;
        - ``joints`` has one finite position (and velocity, if any) per name and no name
          twice; ``efforts`` is ``None``.

        :raise BackendError: a joint name the twin does not have as a movable joint (names are
            the one thing a backend knows better than its caller)
        """

    @abstractmethod
    def scan(self) -> ScanData | None:
        """A lidar scan of the current state; ``None`` if there is no lidar or no new scan since
        the last call (a backend that renders scans itself hands out each one once)."""

    @abstractmethod
    def odometry(self) -> OdometrySample | None:
        """The twin's base pose and twist in the odom frame (``None`` if not known yet)."""

    @abstractmethod
    def joint_state(self) -> JointStateSample | None:
        """The twin's joint positions/velocities for :attr:`joint_names` (``None`` if unknown)."""

    @abstractmethod
    def step(self, duration: float, wheel_velocities: dict[str, float] | None = None) -> None:
        """Advance the dynamics by ``duration`` seconds, driving wheel joints at the given
        velocities (rad/s) — used for prediction and training data, not for mirroring."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release simulator resources."""
