"""A trained navigation policy on disk and in use: ``policy.zip`` (SB3 PPO) + ``policy.json``.

``policy.json`` holds the observation layout the policy was trained with
(:class:`NavObservation`: beam angles, scales, speed limits) and what it was trained on, so
a live scan of any beam count is read at the trained angles and actions are scaled back to
the trained speeds (:meth:`NavPolicy.command`).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from twin_bridge.errors import ConfigError
from twin_bridge.learning.nav_observation import NavObservation

__all__ = ['POLICY_FILE', 'LAYOUT_FILE', 'NavPolicy', 'save_policy']

POLICY_FILE = 'policy.zip'
LAYOUT_FILE = 'policy.json'


def save_policy(model: Any, layout: NavObservation, directory: str | Path,
                metadata: dict[str, Any]) -> Path:
    """Write ``model`` (an SB3 algorithm) and its layout into ``directory``; return the
    ``policy.zip`` path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    model.save(directory / POLICY_FILE)
    data = {'observation': layout.to_mapping(), **metadata}
    (directory / LAYOUT_FILE).write_text(json.dumps(data, indent=2), encoding='utf-8')
    return directory / POLICY_FILE


class NavPolicy:
    """A loaded policy: observations in, ``(v, omega)`` out.

    :param path: the directory holding ``policy.zip`` and ``policy.json`` (or the zip)
    :raise ConfigError: a missing or unreadable file, or a layout that does not fit the
        network (the file named)
    """

    def __init__(self, path: str | Path) -> None:
        path = Path(path).expanduser()
        directory = path.parent if path.suffix == '.zip' else path
        zip_path = path if path.suffix == '.zip' else directory / POLICY_FILE
        layout_path = directory / LAYOUT_FILE
        for needed in (zip_path, layout_path):
            if not needed.is_file():
                raise ConfigError(f'{needed}: policy file not found (train one with '
                                  '`twin_train`)')
        try:
            self.metadata = json.loads(layout_path.read_text(encoding='utf-8'))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ConfigError(f'{layout_path}: cannot read: {exc}') from exc
        if not isinstance(self.metadata, dict):
            raise ConfigError(f'{layout_path}: expected a JSON object')
        self.layout = NavObservation.from_mapping(self.metadata.get('observation') or {},
                                                  source=str(layout_path))
        from stable_baselines3 import PPO  # heavy (torch): only when a policy is loaded
        try:
            self.model = PPO.load(zip_path, device='cpu')
        except Exception as exc:  # SB3/zipfile/torch raise many types on a broken file
            raise ConfigError(f'{zip_path}: cannot load the policy: {exc}') from exc
        shape = self.model.observation_space.shape
        if shape != (self.layout.size,):
            raise ConfigError(f'{layout_path}: layout has {self.layout.size} observation values '
                              f'but the network in {zip_path.name} takes {shape}')
        self.path = directory

    def act(self, observations: np.ndarray) -> np.ndarray:
        """Deterministic actions ``(n, 2)`` in [-1, 1] for observations ``(n, size)``."""
        actions, _ = self.model.predict(np.asarray(observations, dtype=np.float32),
                                        deterministic=True)
        return np.clip(np.asarray(actions, dtype=np.float64), -1.0, 1.0)

    def observe(self, ranges: np.ndarray, angle_min: float, angle_increment: float,
                pose: tuple[float, float, float], twist: tuple[float, float],
                goal: tuple[float, float]) -> np.ndarray:
        """One observation ``(size,)`` from a live scan (REP-117 ranges in the sensor frame,
        read at the trained beam angles, nearest beam), the planar pose ``(x, y, yaw)`` and
        twist ``(v, omega)``, and the goal ``(x, y)`` in the pose's frame.

        :raise ValueError: an empty scan, a non-finite angle, pose, twist or goal
        """
        ranges = np.asarray(ranges, dtype=np.float64)
        values = (angle_min, angle_increment, *pose, *twist, *goal)
        if ranges.ndim != 1 or not len(ranges) or not all(math.isfinite(v) for v in values):
            raise ValueError('observe: needs a 1-D non-empty scan and finite angles, pose, '
                             'twist and goal')
        n = len(ranges)
        if angle_increment == 0.0:
            idx = np.zeros(self.layout.beams, dtype=int)
        else:
            idx = np.rint((self.layout.beam_angles - angle_min) / angle_increment).astype(int)
            if abs(angle_increment) * n >= 2 * math.pi - 1e-3:
                idx %= n  # a full circle wraps
            idx = np.clip(idx, 0, n - 1)
        obs = self.layout.from_state(ranges[idx][None, :], np.array([pose[0]]),
                                     np.array([pose[1]]), np.array([pose[2]]),
                                     np.array([twist[0]]), np.array([twist[1]]),
                                     np.array([goal]))
        return obs[0]

    def command(self, observation: np.ndarray) -> tuple[float, float]:
        """The forward speed (m/s) and yaw rate (rad/s) for one observation."""
        action = self.act(observation[None, :])
        v, w = self.layout.twist(action)
        return float(v[0]), float(w[0])
