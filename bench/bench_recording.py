"""Bench: the recorder at the twin's full load, and replay speed.

Recording: ``--seconds`` of 100 Hz joint states + 50 Hz odometry + 20 Hz 720-beam scans,
physical and virtual (six streams, real CDR messages), offered at their rates to a
:class:`Recorder`; reports drops (target 0) and the writer thread's CPU share (target at
most 5 % of a core). Replay: the shipped robot's figure-eight in the warehouse (50 Hz
states, 10 Hz scans, drift and prediction on) replayed as fast as it goes (target >= 20x
real time). ``python bench/bench_recording.py --seconds 600`` is the issue's 10 minutes.
"""

from __future__ import annotations

import argparse
from pathlib import Path
import sys
import tempfile
import threading
import time

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from twin_bridge.core.lidar import ScanData
from twin_bridge.core.state import JointStateSample, OdometrySample
from twin_bridge.description.robot_description import (
    default_robot_path,
    load_robot_description,
)
from twin_bridge.recording import samples as bs
from twin_bridge.recording.recorder import Recorder
from twin_bridge.recording.replay import ReplayOptions, replay
from twin_bridge.recording.synthetic import synthesize_bag

STREAMS = (('joint_states', bs.JOINT_STATE, 100.0), ('odom', bs.ODOMETRY, 50.0),
           ('scan', bs.LASER_SCAN, 20.0))


def _payloads() -> dict[str, bytes]:
    js = JointStateSample(tuple(f'joint_{i}' for i in range(6)), np.arange(6.0),
                          np.arange(6.0), None, 1)
    odom = OdometrySample(np.array([1.0, 2.0, 0.0]), np.array([0.0, 0.0, 0.0, 1.0]),
                          stamp_ns=1)
    ranges = np.random.default_rng(0).uniform(0.2, 8.0, 720).astype(np.float32)
    scan = ScanData('lidar', -np.pi, np.pi, 2 * np.pi / 720, 0.0, 0.05, 0.1, 12.0, ranges,
                    ranges.copy())
    return {bs.JOINT_STATE: bs.encode_joint_state(js), bs.ODOMETRY: bs.encode_odometry(odom),
            bs.LASER_SCAN: bs.encode_scan(scan, 1)}


def bench_recording(seconds: float, folder: Path) -> dict[str, float]:
    """Offer the full load in real time; :return: drops, writer CPU share, sizes"""
    payloads = _payloads()
    recorder = Recorder(folder / 'bag')
    events = []
    for side in ('', 'virtual/'):
        for name, msgtype, rate in STREAMS:
            handle = recorder.add_topic('/' + side + name, msgtype)
            events += [(k / rate, handle, payloads[msgtype]) for k in range(int(seconds * rate))]
    events.sort(key=lambda e: e[0])
    writer = next(t for t in threading.enumerate() if t.name == 'twin_recorder')
    cpu0 = time.clock_gettime(time.pthread_getcpuclockid(writer.ident))
    t0 = time.perf_counter()
    for t, handle, data in events:
        delay = t0 + t - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        recorder.offer(handle, time.time_ns(), data)
    wall = time.perf_counter() - t0
    cpu = time.clock_gettime(time.pthread_getcpuclockid(writer.ident)) - cpu0
    stats = recorder.close()
    # Baseline: the same messages through a bare mcap Writer in one loop (thread CPU time).
    import io

    from mcap.writer import Writer
    bare = Writer(io.BytesIO())
    bare.start(profile='ros2')
    schema = bare.register_schema('x', 'ros2msg', b'')
    channels = [bare.register_channel(f'/{i}', 'cdr', schema) for i in range(6)]
    c0 = time.thread_time()
    for t, handle, data in events:
        bare.add_message(channels[handle], log_time=int(t * 1e9), data=data,
                         publish_time=int(t * 1e9))
    bare.finish()
    bare_cpu = time.thread_time() - c0
    return {'bare_writer_cpu_percent': 100 * bare_cpu / wall,
            'messages': len(events), 'written': stats.written, 'dropped': stats.dropped_total,
            'max_queued': stats.max_queued, 'writer_cpu_percent': 100 * cpu / wall,
            'mb': stats.bytes_written / 1e6, 'rate_msgs_s': len(events) / wall}


def bench_replay(seconds: float, folder: Path) -> dict[str, float]:
    """Replay a synthesized warehouse figure-eight; :return: speed vs real time"""
    robot = load_robot_description(default_robot_path())
    bag = synthesize_bag(folder / 'physical', robot, seconds=seconds)
    result = replay(bag)
    out = replay(bag, ReplayOptions(output_bag=folder / 'with_virtual'))
    return {'bag_s': result.duration_s, 'wall_s': result.wall_s, 'speed_x': result.speed,
            'speed_x_with_virtual_bag': out.speed,
            'scans_compared': result.drift_counts['checked']}


def main() -> int:
    """Run both benches and print their numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seconds', type=float, default=20.0, help='recording load (s)')
    parser.add_argument('--replay-seconds', type=float, default=30.0, help='bag length (s)')
    ns = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rec = bench_recording(ns.seconds, Path(tmp))
        print(f'recording {ns.seconds:g} s: {rec["messages"]} messages '
              f'({rec["rate_msgs_s"]:.0f}/s, {rec["mb"]:.1f} MB): {rec["dropped"]} dropped '
              f'(target 0), max queued {rec["max_queued"]}, writer CPU '
              f'{rec["writer_cpu_percent"]:.2f} % of a core (target <= 5 %; bare mcap Writer '
              f'loop on the same messages {rec["bare_writer_cpu_percent"]:.2f} %)')
        rep = bench_replay(ns.replay_seconds, Path(tmp))
        print(f'replay {rep["bag_s"]:.0f} s warehouse figure-eight: {rep["wall_s"]:.2f} s = '
              f'{rep["speed_x"]:.1f}x real time (target >= 20x); with the virtual bag '
              f'written {rep["speed_x_with_virtual_bag"]:.1f}x; '
              f'{rep["scans_compared"]} scans compared')
    return 0 if rec['dropped'] == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
