"""Write :class:`LabelledScan` samples as a ROS 2 MCAP bag and as a Parquet table.

Both are readable without twin_bridge. The bag (``ros2 bag play``, ``mcap``, ``rosbags``)
holds, per sample, at the sample's stamp:

========================  ===========================  ========================================
topic                     type                         content
========================  ===========================  ========================================
``/scan``                 ``sensor_msgs/LaserScan``    the noisy scan (REP-117)
``/scan_exact``           ``sensor_msgs/LaserScan``    the exact cast of the same beams
``/pose``                 ``geometry_msgs/PoseStamped`` the robot base in ``frame_id``
``/labels``               ``std_msgs/String``          JSON: ``sample``, ``layout``, ``targets``
                                                       (``[model, link]`` pairs hit in this
                                                       scan), ``beam_target`` (per beam an
                                                       index into ``targets``, -1: no return),
                                                       ``lidar_pose``, ``shifts``, ``noise``
========================  ===========================  ========================================

The Parquet file has one row per sample: ``sample``, ``stamp_ns``, ``layout``, ``x``, ``y``,
``yaw``, ``lidar_x``/``_y``/``_z``/``_yaw``, list columns ``ranges``, ``true_ranges``
(float32), ``hit_model``, ``hit_link`` (dictionary-encoded strings, ``""``: no return), and
JSON strings ``shifts`` and ``noise``; the schema metadata key ``twin_bridge`` holds the lidar
geometry.
Rows are written in row groups, so closing after an interrupt leaves a valid file.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from twin_bridge.learning.synthetic_data import LabelledScan
from twin_bridge.recording.bag_writer import BagWriter
from twin_bridge.recording.message_types import typestore
from twin_bridge.recording.qos_profiles import QosProfile

__all__ = ['LABELS_TOPIC', 'McapSampleWriter', 'ParquetSampleWriter', 'labels_json']

SCAN_TOPIC, EXACT_TOPIC, POSE_TOPIC, LABELS_TOPIC = '/scan', '/scan_exact', '/pose', '/labels'
_NS = 1_000_000_000


def labels_json(sample: LabelledScan, targets: list[tuple[str, str]]) -> str:
    """The ``/labels`` message text of ``sample`` (only the targets this scan hit)."""
    used = np.unique(sample.hit[sample.hit >= 0])
    remap = np.full(len(targets) + 1, -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    return json.dumps({
        'sample': sample.index, 'layout': sample.layout,
        'targets': [list(targets[i]) for i in used],
        'beam_target': remap[sample.hit].tolist(),
        'lidar_pose': [float(v) for v in sample.lidar_pose],
        'shifts': {k: list(v) for k, v in sample.shifts.items()},
        'noise': sample.noise.to_mapping()}, separators=(',', ':'))


class McapSampleWriter:
    """A rosbag2 folder (MCAP) of samples; :meth:`close` leaves a complete bag.

    :param folder: the bag folder (must not exist or be empty)
    :param info: :meth:`SyntheticScanGenerator.describe` (lidar geometry, frame)
    :param targets: the generator's ``(model, link)`` targets
    """

    def __init__(self, folder: str | Path, info: dict[str, Any],
                 targets: list[tuple[str, str]]) -> None:
        self.info, self.targets = info, targets
        self.writer = BagWriter(folder, custom_data={'twin_bridge.synthetic': json.dumps(info)})
        sensor = [QosProfile(reliability='best_effort', depth=10)]
        self._scan = self.writer.add_topic(SCAN_TOPIC, 'sensor_msgs/msg/LaserScan', sensor)
        self._exact = self.writer.add_topic(EXACT_TOPIC, 'sensor_msgs/msg/LaserScan', sensor)
        self._pose = self.writer.add_topic(POSE_TOPIC, 'geometry_msgs/msg/PoseStamped',
                                           [QosProfile()])
        self._labels = self.writer.add_topic(LABELS_TOPIC, 'std_msgs/msg/String',
                                             [QosProfile()])
        self.count = 0

    def _header(self, stamp_ns: int, frame_id: str) -> Any:
        t = typestore().types
        sec, nsec = divmod(stamp_ns, _NS)
        return t['std_msgs/msg/Header'](stamp=t['builtin_interfaces/msg/Time'](sec=sec,
                                                                              nanosec=nsec),
                                        frame_id=frame_id)

    def _scan_bytes(self, ranges: np.ndarray, stamp_ns: int) -> bytes:
        info = self.info
        msg = typestore().types['sensor_msgs/msg/LaserScan'](
            header=self._header(stamp_ns, str(info['lidar_frame_id'])),
            angle_min=float(info['angle_min']), angle_max=float(info['angle_max']),
            angle_increment=float(info['angle_increment']), time_increment=0.0,
            scan_time=0.0, range_min=float(info['range_min']),
            range_max=float(info['range_max']),
            ranges=np.ascontiguousarray(ranges, dtype=np.float32),
            intensities=np.zeros(0, dtype=np.float32))
        return bytes(typestore().serialize_cdr(msg, 'sensor_msgs/msg/LaserScan'))

    def write(self, sample: LabelledScan) -> None:
        """Append one sample (four messages at its stamp)."""
        t, store, stamp = typestore().types, typestore(), sample.stamp_ns
        x, y, yaw = (float(v) for v in sample.pose)
        pose = t['geometry_msgs/msg/PoseStamped'](
            header=self._header(stamp, str(self.info['frame_id'])),
            pose=t['geometry_msgs/msg/Pose'](
                position=t['geometry_msgs/msg/Point'](x=x, y=y, z=0.0),
                orientation=t['geometry_msgs/msg/Quaternion'](
                    x=0.0, y=0.0, z=math.sin(yaw / 2), w=math.cos(yaw / 2))))
        label = t['std_msgs/msg/String'](data=labels_json(sample, self.targets))
        w = self.writer
        w.write(self._scan, stamp, self._scan_bytes(sample.ranges, stamp))
        w.write(self._exact, stamp, self._scan_bytes(sample.true_ranges, stamp))
        w.write(self._pose, stamp,
                bytes(store.serialize_cdr(pose, 'geometry_msgs/msg/PoseStamped')))
        w.write(self._labels, stamp, bytes(store.serialize_cdr(label, 'std_msgs/msg/String')))
        self.count += 1

    def close(self) -> None:
        """Finish the bag (idempotent)."""
        self.writer.close()


class ParquetSampleWriter:
    """A Parquet file of samples, one row each, written ``row_group`` rows at a time.

    The per-beam columns are built from whole arrays (no per-beam Python objects); the
    model and link names are dictionary-encoded strings (read back as plain strings).

    :param path: the ``.parquet`` file (parent folders are created)
    :param info: :meth:`SyntheticScanGenerator.describe`
    :param targets: the generator's ``(model, link)`` targets
    :param row_group: rows buffered before a row group is written
    """

    _SCALARS = ('x', 'y', 'yaw', 'lidar_x', 'lidar_y', 'lidar_z', 'lidar_yaw')

    def __init__(self, path: str | Path, info: dict[str, Any],
                 targets: list[tuple[str, str]], row_group: int = 64) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq
        self._pa = pa
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        names = pa.dictionary(pa.int32(), pa.string())
        self.schema = pa.schema(
            [('sample', pa.int64()), ('stamp_ns', pa.int64()), ('layout', pa.int32()),
             *((n, pa.float64()) for n in self._SCALARS),
             ('ranges', pa.list_(pa.float32())), ('true_ranges', pa.list_(pa.float32())),
             ('hit_model', pa.list_(names)), ('hit_link', pa.list_(names)),
             ('shifts', pa.string()), ('noise', pa.string())],
            metadata={'twin_bridge': json.dumps(info)})
        # index len(targets) is "no return" (hit == -1 wraps to it)
        self._models = pa.array([m for m, _ in targets] + [''], pa.string())
        self._links = pa.array([link for _, link in targets] + [''], pa.string())
        self._miss = len(targets)
        self._writer = pq.ParquetWriter(self.path, self.schema, compression='zstd')
        self._rows: list[LabelledScan] = []
        self._row_group = max(1, int(row_group))
        self.count = 0

    def write(self, sample: LabelledScan) -> None:
        """Append one sample (written with the next full row group or on close)."""
        self._rows.append(sample)
        self.count += 1
        if len(self._rows) >= self._row_group:
            self._flush()

    def _lists(self, values: np.ndarray, lengths: list[int], dictionary: Any = None) -> Any:
        pa = self._pa
        offsets = pa.array(np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32))
        flat = (pa.array(values) if dictionary is None
                else pa.DictionaryArray.from_arrays(pa.array(values), dictionary))
        return pa.ListArray.from_arrays(offsets, flat)

    def _flush(self) -> None:
        rows = self._rows
        if not rows:
            return
        pa = self._pa
        lengths = [len(r.ranges) for r in rows]
        hits = np.concatenate([r.hit for r in rows]).astype(np.int32)
        hits[hits < 0] = self._miss
        poses = np.array([np.r_[r.pose, r.lidar_pose] for r in rows])
        columns = [pa.array([r.index for r in rows], pa.int64()),
                   pa.array([r.stamp_ns for r in rows], pa.int64()),
                   pa.array([r.layout for r in rows], pa.int32()),
                   *(pa.array(poses[:, k]) for k in range(len(self._SCALARS))),
                   self._lists(np.concatenate([r.ranges for r in rows]).astype(np.float32),
                               lengths),
                   self._lists(np.concatenate([r.true_ranges for r in rows])
                               .astype(np.float32), lengths),
                   self._lists(hits, lengths, self._models),
                   self._lists(hits, lengths, self._links),
                   pa.array([json.dumps({k: list(v) for k, v in r.shifts.items()})
                             for r in rows], pa.string()),
                   pa.array([json.dumps(r.noise.to_mapping()) for r in rows], pa.string())]
        self._writer.write_table(pa.Table.from_arrays(columns, schema=self.schema))
        rows.clear()

    def close(self) -> None:
        """Write the buffered rows and the footer (idempotent)."""
        if self._writer is None:
            return
        try:
            self._flush()
        finally:
            self._writer.close()
            self._writer = None
