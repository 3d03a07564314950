"""Fit a :class:`LidarNoise` to a recorded physical scan stream (a bag) through the twin."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from twin_bridge.errors import ConfigError
from twin_bridge.learning.sensor_noise import LidarNoise, fit_lidar_noise, ks_distance
from twin_bridge.recording import samples as bs
from twin_bridge.recording.bag_reader import BagError, BagReader
from twin_bridge.recording.replay import ReplayOptions, ReplayTopics, replay

__all__ = ['NoiseFit', 'RESIDUAL_TOPIC', 'estimate_dropout', 'fit_lidar_noise_from_bag',
           'load_noise_file', 'write_noise_file']

#: Where the live node and a replay's output bag put the per-beam residuals.
RESIDUAL_TOPIC = '/virtual/scan_residual'


@dataclass(frozen=True)
class NoiseFit:
    """A fitted model and what it was fitted to.

    ``residuals``: the finite per-beam residuals (m); ``scans``: physical scans seen;
    ``source``: ``"replay"`` (the bag went through the twin) or the residual topic read;
    ``ks``: the two-sample KS distance between ``residuals`` and as many residuals drawn
    from ``noise`` (seed 0).
    """

    noise: LidarNoise
    residuals: np.ndarray
    scans: int
    source: str
    ks: float


def estimate_dropout(scans: Iterable[np.ndarray]) -> tuple[int, int]:
    """Count isolated no-returns: ``(beams that returned +inf between two hits, beams
    between two hits)``; their ratio estimates the dropout probability without the twin
    (a real gap one beam wide is rare, a random dropout usually has hits on both sides)."""
    dropped = candidates = 0
    for ranges in scans:
        r = np.asarray(ranges, dtype=float)
        if r.size < 3:
            continue
        hits = np.isfinite(r)
        between = hits[:-2] & hits[2:]
        candidates += int(np.count_nonzero(between))
        dropped += int(np.count_nonzero(between & (r[1:-1] == np.inf)))
    return dropped, candidates


def _physical_scans(reader: BagReader, topic: str) -> list[np.ndarray]:
    if reader.topics.get(topic) != bs.LASER_SCAN:
        return []
    return [np.asarray(bs.decode(m.data, m.msgtype).ranges, dtype=np.float32)
            for m in reader.messages([topic])]


def fit_lidar_noise_from_bag(bag: str | Path, world: str | Path = 'warehouse',
                             robot: str | None = None, *, topics: ReplayTopics | None = None,
                             residual_topic: str = RESIDUAL_TOPIC, use_recorded: bool = True,
                             xacro_args: dict[str, str] | None = None,
                             ks_target: float = 0.02) -> NoiseFit:
    """Fit the lidar noise of the robot that recorded ``bag``.

    With ``use_recorded`` and a ``residual_topic`` (``sensor_msgs/LaserScan``, NaN where a
    side had no return) in the bag, its residuals are used as recorded; otherwise the bag is
    replayed through a :class:`DigitalTwin` of ``world`` and ``robot`` (as ``twin_replay``
    does) and the drift check's residuals are used (a long bag is thinned to at most
    ``replay.MAX_ROWS`` scans). The dropout rate comes from the physical scans
    (:func:`estimate_dropout`).

    :param bag: a rosbag2 folder, ``.mcap`` or ``.db3`` file
    :param world: the twin's world (shipped name or SDF path)
    :param robot: robot description (URDF/xacro path; ``None``: the package's robot)
    :param topics: the physical robot's topics (default ``/joint_states``, ``/odom``, ``/scan``)
    :param ks_target: passed to :func:`fit_lidar_noise`
    :raise BagError: unreadable bag, or no physical scans and no residual topic
    :raise ValueError: too few residuals to fit
    """
    topics = topics or ReplayTopics()
    with BagReader(bag) as reader:
        scans = _physical_scans(reader, topics.scan)
        recorded = use_recorded and reader.topics.get(residual_topic) == bs.LASER_SCAN
        if recorded:
            rows = [np.asarray(bs.decode(m.data, m.msgtype).ranges, dtype=np.float64)
                    for m in reader.messages([residual_topic])]
        elif not scans:
            listing = ', '.join(f'{t} ({m})' for t, m in sorted(reader.topics.items()))
            raise BagError(f'{bag}: no {topics.scan} ({bs.LASER_SCAN}) and no {residual_topic}'
                           f' to fit lidar noise to; topics: {listing or "none"}')
    if recorded:
        source = residual_topic
    else:
        result = replay(bag, ReplayOptions(world=str(world), robot=robot, topics=topics,
                                           xacro_args=xacro_args, prediction_rate=0.0))
        rows = [np.asarray(r, dtype=np.float64) for r in result.residuals]
        source = 'replay'
    residuals = np.concatenate(rows) if rows else np.zeros(0)
    residuals = residuals[np.isfinite(residuals)]
    dropped, candidates = estimate_dropout(scans)
    noise = fit_lidar_noise(residuals, ks_target=ks_target)
    if candidates:
        noise = LidarNoise.from_mapping({**noise.to_mapping(), 'dropout': dropped / candidates})
    drawn = noise.sample_residuals(residuals.size, np.random.default_rng(0))
    return NoiseFit(noise, residuals, len(scans) if scans else len(rows), source,
                    ks_distance(drawn, residuals))


def write_noise_file(fit: NoiseFit, path: str | Path, bag: str | Path | None = None) -> Path:
    """Write ``fit`` as YAML: ``lidar_noise`` (what :func:`load_noise_file` and
    :meth:`LidarNoise.from_mapping` read) and ``fit`` (what it was fitted to)."""
    path = Path(path)
    info = {'source': fit.source, 'residuals': int(fit.residuals.size), 'scans': fit.scans,
            'ks_distance': round(fit.ks, 5)}
    if bag is not None:
        info['bag'] = str(bag)
    doc = {'lidar_noise': {k: float(v) for k, v in fit.noise.to_mapping().items()},
           'fit': info}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def load_noise_file(path: str | Path) -> LidarNoise:
    """A :class:`LidarNoise` from a YAML file: its ``lidar_noise`` block (as
    :func:`write_noise_file` writes) or, without one, the whole top-level mapping.

    :raise ConfigError: unreadable file, bad YAML, or a bad block (naming file and key)
    """
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f'{path}: cannot read a lidar noise file: {exc}') from exc
    if isinstance(doc, dict) and 'lidar_noise' in doc:
        return LidarNoise.from_mapping(doc['lidar_noise'], where=f'{path}: lidar_noise')
    return LidarNoise.from_mapping(doc if doc is not None else {}, where=str(path))
