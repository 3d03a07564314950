"""The ``twin_fit_noise`` console script: fit a lidar noise model to a recorded bag."""

from __future__ import annotations

import argparse
from pathlib import Path
import sys

from twin_bridge.errors import TwinBridgeError
from twin_bridge.learning.noise_fit import (
    RESIDUAL_TOPIC,
    fit_lidar_noise_from_bag,
    write_noise_file,
)
from twin_bridge.recording.replay import ReplayTopics

__all__ = ['main', 'parse_args']


def parse_args(argv: list[str]) -> argparse.Namespace:
    """``twin_fit_noise``'s arguments. :raise SystemExit: on ``--help`` or bad arguments"""
    parser = argparse.ArgumentParser(
        prog='twin_fit_noise',
        description='Fit a lidar noise model (bias, Gaussian core, heavy-tailed outliers, '
                    'dropouts) to the per-beam residuals (physical minus virtual range) of a '
                    f'recorded robot: read from {RESIDUAL_TOPIC} when the bag has it, else '
                    'computed by replaying the bag through the twin.')
    parser.add_argument('bag', type=Path, help='a rosbag2 folder, .mcap or .db3 file')
    parser.add_argument('-o', '--output', type=Path, default=Path('lidar_noise.yaml'),
                        help='YAML file to write (default: lidar_noise.yaml)')
    parser.add_argument('--world', default='warehouse', help='shipped world name or SDF path')
    parser.add_argument('--robot', default=None, help='URDF/xacro (default: the package\'s)')
    parser.add_argument('--namespace', default='', help='the robot\'s topic namespace')
    parser.add_argument('--residual-topic', default=RESIDUAL_TOPIC,
                        help='recorded residuals (sensor_msgs/LaserScan)')
    parser.add_argument('--replay', action='store_true',
                        help='replay even when the bag has the residual topic')
    parser.add_argument('--ks-target', type=float, default=0.02,
                        help='keep a single Gaussian within this KS distance (default 0.02)')
    ns = parser.parse_args(argv)
    if not 0 < ns.ks_target < 1:
        parser.error('--ks-target must be in (0, 1)')
    return ns


def main(args: list[str] | None = None) -> int:
    """Fit, print the model, write the YAML. :return: 0, or 1 on a bad bag or too little data"""
    ns = parse_args(sys.argv[1:] if args is None else list(args))
    try:
        fit = fit_lidar_noise_from_bag(ns.bag, ns.world, ns.robot,
                                       topics=ReplayTopics.under(ns.namespace),
                                       residual_topic=ns.residual_topic,
                                       use_recorded=not ns.replay, ks_target=ns.ks_target)
        path = write_noise_file(fit, ns.output, ns.bag)
    except (TwinBridgeError, ValueError, OSError) as exc:
        print(f'twin_fit_noise: {exc}', file=sys.stderr)
        return 1
    for key, value in fit.noise.to_mapping().items():
        print(f'  {key:17s} {value:.6g}')
    print(f'{fit.residuals.size} residuals from {fit.scans} scans ({fit.source}); '
          f'KS distance of the model: {fit.ks:.4f}; written: {path}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
