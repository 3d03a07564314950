"""``twin_record``'s command line (no ROS): output path, topics, split and queue options."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from twin_bridge.recording.bag_writer import COMPRESSIONS, SplitPolicy
from twin_bridge.recording.topic_selection import DEFAULT_TOPICS

__all__ = ['RecordOptions', 'default_output', 'parse_record_args']


@dataclass(frozen=True)
class RecordOptions:
    """What ``twin_record`` was asked to do."""

    output: Path
    topics: tuple[str, ...]
    split: SplitPolicy
    compression: str
    max_messages: int
    duration: float
    progress_period: float


def default_output(now: datetime | None = None) -> Path:
    """``recordings/twin_<YYYYmmdd-HHMMSS>`` under the current directory."""
    return Path('recordings') / f'twin_{(now or datetime.now()).strftime("%Y%m%d-%H%M%S")}'


def parse_record_args(argv: list[str]) -> RecordOptions:
    """Parse ``twin_record``'s own arguments (those before ``--ros-args``).

    :raise SystemExit: on ``--help`` or bad arguments (argparse's behaviour)
    """
    parser = argparse.ArgumentParser(
        prog='twin_record',
        description='Record the twin\'s topics into an MCAP bag (a rosbag2 folder that '
                    '`ros2 bag info/play`, Foxglove, mcap and rosbags open). Ctrl-C stops '
                    'and closes the bag properly.',
        epilog='ROS arguments go after --ros-args, e.g. --ros-args -r __ns:=/robot1 '
               '(relative topics resolve in that namespace).')
    parser.add_argument('-o', '--output', type=Path, default=None,
                        help='new bag folder (default: recordings/twin_<date-time>)')
    parser.add_argument('-t', '--topics', nargs='+', default=list(DEFAULT_TOPICS),
                        metavar='TOPIC',
                        help='topics, or prefix/* for every topic under a prefix (default: '
                             + ' '.join(DEFAULT_TOPICS) + ')')
    parser.add_argument('--split-size', type=float, default=0.0, metavar='MB',
                        help='start a new file after this many MB (0 = never)')
    parser.add_argument('--split-duration', type=float, default=0.0, metavar='S',
                        help='start a new file after this many seconds of messages '
                             '(0 = never)')
    parser.add_argument('--compression', choices=sorted(COMPRESSIONS), default='zstd',
                        help='MCAP chunk compression (default: zstd)')
    parser.add_argument('--queue', type=int, default=20_000, metavar='N',
                        help='messages the write queue holds before it drops (counted)')
    parser.add_argument('--duration', type=float, default=0.0, metavar='S',
                        help='stop after this many seconds (0 = until Ctrl-C / SIGTERM)')
    parser.add_argument('--progress', type=float, default=5.0, metavar='S',
                        help='seconds between progress lines (0 = none)')
    ns = parser.parse_args(argv)
    for name in ('split_size', 'split_duration', 'duration', 'progress'):
        if getattr(ns, name) < 0:
            parser.error(f'--{name.replace("_", "-")} must be >= 0')
    if ns.queue < 1:
        parser.error('--queue must be >= 1')
    return RecordOptions(ns.output or default_output(), tuple(ns.topics),
                         SplitPolicy(int(ns.split_size * 1e6), int(ns.split_duration * 1e9)),
                         ns.compression, ns.queue, ns.duration, ns.progress)
