"""Bench: synthetic lidar-data generation speed against the bare ray cast of the same beams.

The generator (``config/synthetic_data.yaml``'s randomization in the warehouse: a new
obstacle layout every 10 samples, poses drawn in free space, noise drawn and applied,
labels) makes ``--samples`` scans in memory, then again written as MCAP + Parquet. The
baseline, in the same run, is one bare :class:`BeamCaster` cast of the same 720 beams from
the same lidar poses: what a sample costs at the least. Target: the generator at >= 25 % of
the bare cast's rate (labels, free-space poses and noise cost at most 3x the cast), and
>= 500 samples/s written.
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


def main() -> int:
    """Run the three measurements and print rates and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--samples', type=int, default=2000)
    ns = parser.parse_args()
    config = load_synthetic_config(CONFIG).replace(samples=ns.samples)
    robot = load_robot_description(default_robot_path())

    t0 = time.perf_counter()
    samples = list(SyntheticScanGenerator(config, robot))
    gen_s = time.perf_counter() - t0

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        write_dataset(config, mcap=Path(tmp) / 'bag', parquet=Path(tmp) / 'data.parquet')
        write_s = time.perf_counter() - t0
        size = sum(f.stat().st_size for f in Path(tmp).rglob('*') if f.is_file())

    backend = EmbeddedBackend('warehouse', robot, lidar_noise=False)
    caster = BeamCaster.from_backend(backend, max_beams=robot.lidar.samples)
    angles = robot.lidar.beam_angles()
    poses = np.array([s.lidar_pose for s in samples])
    t0 = time.perf_counter()
    for x, y, z, yaw in poses:
        caster.cast(np.array([x, y, z]), float(yaw), angles)
    cast_s = time.perf_counter() - t0

    n = ns.samples
    gen, written, bare = n / gen_s, n / write_s, n / cast_s
    print(f'{n} samples, {robot.lidar.samples} beams, new layout every {config.layout_every}')
    print(f'generator (in memory):   {gen:8.0f} samples/s')
    print(f'generator + MCAP+Parquet: {written:7.0f} samples/s ({size / n / 1024:.1f} KiB/sample)')
    print(f'bare cast, same beams:   {bare:8.0f} samples/s (baseline)')
    print(f'ratio generator / bare cast: {gen / bare:.2f} (target >= 0.25: '
          f'{"met" if gen / bare >= 0.25 else "MISSED"}); written >= 500/s: '
          f'{"met" if written >= 500 else "MISSED"}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
