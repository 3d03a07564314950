#!/usr/bin/env python3
"""The seed's ``AITrainingPipeline.collect_training_data``: labelled lidar data from the twin,
with the noise of the physical robot's lidar.

1. A recording of the "physical" robot: the stand-in drives its figure-eight in the
   warehouse with a noisier lidar than the description says (``scan_noise`` fault) and a
   3 cm range bias. Use your own bag instead: ``--bag PATH``.
2. The pipeline fits the lidar noise to that recording through the twin, then writes N
   samples (robot poses in free space, shelves moved by up to 0.3 m, that noise) as a ROS 2
   bag and a Parquet file, with per beam the model and link it hit.

Run it: ``python examples/synthetic_lidar_data.py [--samples N] [--out DIR] [--bag PATH]``.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path
import sys
import tempfile

import pyarrow.parquet as pq

from twin_bridge.description.robot_description import default_robot_path, load_robot_description
from twin_bridge.learning.training_data import AITrainingPipeline, SyntheticDataGenerator
from twin_bridge.recording.synthetic import synthesize_bag


def main(argv: list[str] | None = None) -> int:
    """Record (or take) a bag, collect the data, print what was written."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--samples', type=int, default=200)
    parser.add_argument('--out', type=Path, default=Path('reports/synthetic_lidar_data'))
    parser.add_argument('--bag', type=Path, default=None, help='a physical robot recording')
    ns = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        bag = ns.bag or synthesize_bag(
            Path(tmp) / 'physical', load_robot_description(default_robot_path()),
            seconds=4.0, faults=['scan_noise:stddev=0.02', 'range_bias:m=0.03'])
        generator = SyntheticDataGenerator({
            'world': 'warehouse', 'seed': 1, 'layout_every': 20,
            'move_obstacles': {'names': ['shelf_hall_0', 'shelf_hall_1', 'box_0'],
                               'max_shift': 0.3}})
        data = AITrainingPipeline(generator).collect_training_data(
            ns.out, ns.samples, physical_bag=bag, progress=True)
    fit = data.noise_fit
    assert fit is not None
    print(f'lidar noise fitted to {fit.residuals.size} residuals ({fit.source}): '
          f'bias {fit.noise.range_bias * 100:.2f} cm, stddev {fit.noise.range_stddev * 100:.2f}'
          f' cm, dropout {fit.noise.dropout:.4f}; KS distance {fit.ks:.3f}')
    table = pq.read_table(data.parquet, columns=['hit_model'])
    hits = Counter(m for row in table.column('hit_model').to_pylist() for m in row)
    print(f'{data.samples} samples: {data.parquet} and {data.mcap} (ros2 bag play-able)')
    print('beams per model:', ', '.join(f'{m or "(no return)"} {n}'
                                        for m, n in hits.most_common(6)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
