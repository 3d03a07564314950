"""Bench: synthetic lidar-data generation speed against the bare ray cast of the same beams.

The generator (``config/synthetic_data.yaml``'s randomization in the warehouse: a new
obstacle layout every 10 samples, poses drawn in free space, noise drawn and applied,
labels) makes ``--samples`` scans in memory, then again written as MCAP + Parquet. The
baseline, in the same run, is one bare :class:`BeamCaster` cast of the same 720 beams from
the same lidar poses: what a sample costs at the least. The three run interleaved in rounds
(the machine is shared) and the medians are reported. Targets: the generator at >= 25 % of
the bare cast's rate (labels, free-space poses and noise cost at most 3x the cast), and
writing both files at most halving the rate.
"""

from __future__ import annotations

import argparse
from pathlib import Path
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from twin_bridge.description.robot_description import default_robot_path, load_robot_description
from twin_bridge.embedded.beam_caster import BeamCaster
from twin_bridge.embedded.embedded_backend import EmbeddedBackend
from twin_bridge.learning.synthetic_cli import write_dataset
from twin_bridge.learning.synthetic_config import load_synthetic_config
from twin_bridge.learning.synthetic_data import SyntheticScanGenerator

CONFIG = Path(__file__).resolve().parent.parent / 'config' / 'synthetic_data.yaml'


def _round(config, robot, caster, angles, folder: Path) -> tuple[float, float, float, int]:
    """One round: in-memory generation, the bare cast of the same beams, written generation.

    :return: the three rates (samples/s) and the bytes written
    """
    n = config.samples
    t0 = time.perf_counter()
    samples = list(SyntheticScanGenerator(config, robot))
    gen = n / (time.perf_counter() - t0)
    poses = np.array([s.lidar_pose for s in samples])
    t0 = time.perf_counter()
    for x, y, z, yaw in poses:
        caster.cast(np.array([x, y, z]), float(yaw), angles)
    bare = n / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    write_dataset(config, mcap=folder / 'bag', parquet=folder / 'data.parquet')
    written = n / (time.perf_counter() - t0)
    size = sum(f.stat().st_size for f in folder.rglob('*') if f.is_file())
    return gen, bare, written, size


def main() -> int:
    """Interleaved rounds of the three measurements; print median rates and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--samples', type=int, default=500, help='samples per round')
    parser.add_argument('--rounds', type=int, default=5)
    ns = parser.parse_args()
    robot = load_robot_description(default_robot_path())
    backend = EmbeddedBackend('warehouse', robot, lidar_noise=False)
    caster = BeamCaster.from_backend(backend, max_beams=robot.lidar.samples)
    angles = robot.lidar.beam_angles()
    base = load_synthetic_config(CONFIG).replace(samples=ns.samples)
    rounds = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(ns.rounds):
            folder = Path(tmp) / str(r)
            folder.mkdir()
            rounds.append(_round(base.replace(seed=r), robot, caster, angles, folder))
    gen, bare, written, size = (np.array(c) for c in zip(*rounds, strict=True))
    ratio, write_ratio = float(np.median(gen / bare)), float(np.median(written / gen))
    print(f'{ns.rounds} rounds x {ns.samples} samples, {robot.lidar.samples} beams, new '
          f'layout every {base.layout_every}; medians:')
    print(f'generator (in memory):    {np.median(gen):7.0f} samples/s')
    print(f'generator + MCAP+Parquet: {np.median(written):7.0f} samples/s '
          f'({np.median(size) / ns.samples / 1024:.1f} KiB/sample)')
    print(f'bare cast, same beams:    {np.median(bare):7.0f} samples/s (baseline)')
    print(f'generator / bare cast: {ratio:.2f} (target >= 0.25: '
          f'{"met" if ratio >= 0.25 else "MISSED"}); written / in memory: {write_ratio:.2f} '
          f'(target >= 0.5: {"met" if write_ratio >= 0.5 else "MISSED"})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
