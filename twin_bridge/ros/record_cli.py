"""The ``twin_record`` console script: record topics into an MCAP bag until Ctrl-C."""

from __future__ import annotations

import sys
import time

import rclpy
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions

from twin_bridge.recording.bag_writer import RecordingError
from twin_bridge.recording.record_options import parse_record_args
from twin_bridge.recording.recorder import Recorder, RecorderStats
from twin_bridge.ros.recorder_node import TopicRecorder

__all__ = ['main', 'progress_line']


NODE_NAME = 'twin_record'


def progress_line(stats: RecorderStats, elapsed: float, topics: int) -> str:
    """``12.0 s: 4810 messages (1.9 MB, 1 file) on 9 topics, 0 dropped``."""
    return (f'{elapsed:.1f} s: {stats.written} messages ({stats.bytes_written / 1e6:.1f} MB, '
            f'{stats.files} file{"s" if stats.files != 1 else ""}) on {topics} topics, '
            f'{stats.dropped_total} dropped' + (f'; ERROR {stats.error}' if stats.error else ''))


def main(args: list[str] | None = None) -> int:
    """Record until Ctrl-C, SIGTERM or ``--duration``. :return: 0, or 1 if the bag could
    not be created or a write failed"""
    argv = sys.argv[1:] if args is None else list(args)
    plain = argv[:argv.index('--ros-args')] if '--ros-args' in argv else argv
    ros = argv[len(plain):]
    options = parse_record_args(plain)
    try:
        recorder = Recorder(options.output, split=options.split,
                            compression=options.compression, max_messages=options.max_messages)
    except (RecordingError, ValueError) as exc:
        print(f'twin_record: {exc}', file=sys.stderr)
        return 1
    rclpy.init(args=[sys.argv[0], *ros], signal_handler_options=SignalHandlerOptions.ALL)
    executor = SingleThreadedExecutor()
    node = Node(NODE_NAME)
    log = node.get_logger()
    start = time.monotonic()
    topics = None
    try:
        topics = TopicRecorder(node, recorder, list(options.topics))
        log.info(f'recording {topics.patterns.describe()} into {options.output}')
        if options.progress_period > 0:
            node.create_timer(options.progress_period, lambda: log.info(progress_line(
                recorder.stats(), time.monotonic() - start, len(topics.subscribed))))
        if options.duration > 0:
            node.create_timer(options.duration, lambda: rclpy.try_shutdown())
        executor.add_node(node)
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        stats = recorder.close()  # everything queued is written, the file closed properly
        print(progress_line(stats, time.monotonic() - start,
                            len(topics.subscribed) if topics else 0), flush=True)
        for topic, count in sorted(stats.per_topic.items()):
            print(f'  {topic}: {count} messages, {stats.dropped.get(topic, 0)} dropped')
        if topics is not None:
            missing = [t for t in topics.patterns.exact if t not in topics.subscribed]
            if missing:
                print(f'  never published: {", ".join(missing)}')
        print(f'bag: {options.output}', flush=True)
        node.destroy_node()
        executor.shutdown()
        rclpy.try_shutdown()
    return 1 if stats.error else 0


if __name__ == '__main__':
    sys.exit(main())
