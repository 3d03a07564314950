"""The twin's side of a hardware-in-the-loop run: recorded commands through its dynamics.

The twin is the embedded model (world + robot) stepped with dynamics, its wheels
velocity-servoed to each command as the robot's wheel geometry turns it into wheel rates
(the same physics the drift issue's ensemble prediction and the safety scenarios use). It
starts at rest at the physical robot's pose of the first command's time and is driven
open-loop by the recorded, time-stamped commands; its pose is sampled every
``sample_period`` s.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from twin_bridge.core.state import OdometrySample
from twin_bridge.core.transforms import yaw_from_quat
from twin_bridge.description.robot_description import (
    RobotDescription,
    default_robot_path,
    load_robot_description,
)
from twin_bridge.description.wheel_geometry import wheel_geometry
from twin_bridge.embedded.embedded_backend import ROBOT_PREFIX, EmbeddedBackend
from twin_bridge.embedded.mujoco_robot import thin_wheel_tyres
from twin_bridge.errors import ConfigError
from twin_bridge.scenarios.hil_compare import CommandLog, Trajectory

__all__ = ['TwinDynamics']


class TwinDynamics:
    """The twin's dynamics for replaying commands (one embedded model, reused per run).

    :param world: shipped world name, SDF path or ``MjSpec``
    :param robot: the robot (default: the package's)
    :param timestep: physics timestep (s)
    :raise ConfigError: the robot is not a differential drive; a world or robot that
        does not load (naming the file)
    """

    def __init__(self, world: str | Path = 'warehouse', robot: RobotDescription | None = None,
                 *, timestep: float = 0.002) -> None:
        self.robot = robot or load_robot_description(default_robot_path())
        wheels = wheel_geometry(self.robot)
        if wheels is None:
            raise ConfigError('HIL twin: the robot is not a differential drive (no wheel pair)')
        self.wheels = wheels
        self.backend = EmbeddedBackend(world, self.robot, lidar_noise=False, timestep=timestep)
        # Dynamics only: thin tyres turn at the commanded rate, as the odometry assumes.
        m = self.backend.model
        thin_wheel_tyres(m, [int(m.joint(ROBOT_PREFIX + name).bodyid[0])
                             for name in (wheels.left_joint, wheels.right_joint)])

    def run(self, commands: CommandLog, start_pose: tuple[float, float, float], end: float,
            *, start: float | None = None, sample_period: float = 0.02) -> Trajectory:
        """Drive the twin from ``start_pose`` ``(x, y, yaw)`` at rest, at time ``start``
        (default the first command's), with ``commands`` until ``end`` (s, same clock).

        :raise ConfigError: ``end`` not after ``start``, a bad period or pose
        """
        t0 = float(commands.t[0] if start is None else start)
        if not (math.isfinite(end) and end > t0):
            raise ConfigError(f'HIL twin: end {end} must be after start {t0}')
        if not (math.isfinite(sample_period) and sample_period > 0):
            raise ConfigError(f'HIL twin: sample_period must be > 0, got {sample_period}')
        x, y, yaw = (float(v) for v in start_pose)
        if not all(math.isfinite(v) for v in (x, y, yaw)):
            raise ConfigError(f'HIL twin: start pose must be finite, got {start_pose}')
        b = self.backend
        _reset(b)
        b.mirror(OdometrySample(np.array([x, y, 0.0]),
                                np.array([0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2)]),
                                np.zeros(3), np.zeros(3), 0, 'odom', self.robot.root_link))
        # Step boundaries: every sample time and every command change in (t0, end].
        samples = t0 + sample_period * np.arange(1, int(math.floor((end - t0) / sample_period
                                                                     + 1e-9)) + 1)
        changes = commands.t[(commands.t > t0) & (commands.t < end)]
        bounds = np.union1d(np.append(samples, end), changes)
        sampled = set(np.round(np.append(samples, end), 9).tolist())
        rows = [(t0, x, y, yaw)]
        t, sim, dt = t0, t0, b.model.opt.timestep   # sim: the physics' own time
        for t_next in bounds:
            v, w = commands.at(t)
            left, right = self.wheels.joint_velocities(float(v), float(w))
            steps = int(round((t_next - sim) / dt))
            if steps > 0:   # whole timesteps, so rounding never accumulates
                b.step(steps * dt, {self.wheels.left_joint: float(left),
                                    self.wheels.right_joint: float(right)})
                sim += steps * dt
            t = float(t_next)
            if round(t, 9) in sampled:
                odom = b.odometry()
                assert odom is not None
                rows.append((t, float(odom.position[0]), float(odom.position[1]),
                             float(yaw_from_quat(odom.orientation))))
        return Trajectory.from_samples(rows)

    def close(self) -> None:
        """Release the model."""
        self.backend.close()


def _reset(backend: EmbeddedBackend) -> None:
    """Put ``backend``'s model back to rest at its initial state (velocities zero)."""
    import mujoco

    mujoco.mj_resetData(backend.model, backend.data)
    mujoco.mj_forward(backend.model, backend.data)
