"""The twin's world and robot as Foxglove scene entities (from :class:`SceneGeometry`)."""

from __future__ import annotations

from collections.abc import Sequence

import foxglove.messages as fm
import mujoco
import numpy as np

from twin_bridge.core.lidar import ScanData
from twin_bridge.embedded.scene_geometry import GeomShape, SceneGeometry

__all__ = ['FRAME', 'laser_scan', 'path_entity', 'pose', 'pose_in_frame', 'robot_entity',
           'text_entity', 'timestamp', 'world_entity']

#: The fixed frame of everything the view shows (the twin mirrors odometry as world poses).
FRAME = 'odom'
WORLD_COLOR = (0.6, 0.6, 0.65, 1.0)
ROBOT_COLOR = (0.2, 0.5, 0.9, 0.8)
_G = mujoco.mjtGeom


def timestamp(stamp_ns: int) -> fm.Timestamp:
    """A Foxglove timestamp from nanoseconds."""
    return fm.Timestamp(int(stamp_ns // 1_000_000_000), int(stamp_ns % 1_000_000_000))


def pose(position: Sequence[float], quat_xyzw: Sequence[float] = (0.0, 0.0, 0.0, 1.0)) -> fm.Pose:
    """A Foxglove pose from a position and an ``(x, y, z, w)`` quaternion."""
    x, y, z, w = (float(v) for v in quat_xyzw)
    return fm.Pose(position=fm.Vector3(x=float(position[0]), y=float(position[1]),
                                       z=float(position[2])),
                   orientation=fm.Quaternion(x=x, y=y, z=z, w=w))


def _color(rgba: Sequence[float]) -> fm.Color:
    return fm.Color(r=rgba[0], g=rgba[1], b=rgba[2], a=rgba[3])


def _mat_to_xyzw(xmat: np.ndarray) -> np.ndarray:
    wxyz = np.zeros(4)
    mujoco.mju_mat2Quat(wxyz, np.ascontiguousarray(xmat, dtype=float).reshape(9))
    return np.array([wxyz[1], wxyz[2], wxyz[3], wxyz[0]])


def world_entity(geometry: SceneGeometry, stamp_ns: int = 0) -> fm.SceneEntity:
    """The world's geoms as one entity (id ``world``)."""
    return _entity('world', geometry.world_shapes, np.zeros(3), np.eye(3), stamp_ns,
                   WORLD_COLOR)


def robot_entity(geometry: SceneGeometry, position: Sequence[float],
                 quat_xyzw: Sequence[float], stamp_ns: int = 0) -> fm.SceneEntity:
    """The robot's collision geoms at base pose ``position``/``quat_xyzw`` (id ``robot``)."""
    rot = np.zeros(9)
    x, y, z, w = (float(v) for v in quat_xyzw)
    mujoco.mju_quat2Mat(rot, np.array([w, x, y, z]))
    return _entity('robot', geometry.robot_shapes, np.asarray(position, dtype=float),
                   rot.reshape(3, 3), stamp_ns, ROBOT_COLOR)


def _entity(entity_id: str, shapes: list[GeomShape], origin: np.ndarray, rotation: np.ndarray,
            stamp_ns: int, rgba: Sequence[float]) -> fm.SceneEntity:
    color = _color(rgba)
    cubes, spheres, cylinders, triangles = [], [], [], []
    for s in shapes:
        rot = rotation @ s.rotation
        pos = origin + rotation @ s.position
        p = pose(pos, _mat_to_xyzw(rot))
        size = s.size
        if s.kind == _G.mjGEOM_BOX:
            cubes.append(fm.CubePrimitive(pose=p, size=_vec(2 * size), color=color))
        elif s.kind == _G.mjGEOM_SPHERE:
            spheres.append(fm.SpherePrimitive(pose=p, size=_vec([2 * size[0]] * 3), color=color))
        elif s.kind == _G.mjGEOM_ELLIPSOID:
            spheres.append(fm.SpherePrimitive(pose=p, size=_vec(2 * size), color=color))
        elif s.kind in (_G.mjGEOM_CYLINDER, _G.mjGEOM_CAPSULE):
            cylinders.append(fm.CylinderPrimitive(
                pose=p, size=_vec([2 * size[0], 2 * size[0], 2 * size[1]]),
                bottom_scale=1.0, top_scale=1.0, color=color))
            if s.kind == _G.mjGEOM_CAPSULE:
                for sign in (-1.0, 1.0):
                    cap = pos + rot[:, 2] * sign * size[1]
                    spheres.append(fm.SpherePrimitive(pose=pose(cap), size=_vec([2 * size[0]] * 3),
                                                      color=color))
        elif s.kind == _G.mjGEOM_MESH and s.triangles is not None:
            triangles.append(fm.TriangleListPrimitive(
                pose=p, points=[fm.Point3(x=v[0], y=v[1], z=v[2]) for v in s.triangles.tolist()],
                color=color))
    return fm.SceneEntity(timestamp=timestamp(stamp_ns), frame_id=FRAME, id=entity_id,
                          cubes=cubes, spheres=spheres, cylinders=cylinders, triangles=triangles)


def _vec(values: Sequence[float]) -> fm.Vector3:
    return fm.Vector3(x=float(values[0]), y=float(values[1]), z=float(values[2]))


def pose_in_frame(position: Sequence[float], quat_xyzw: Sequence[float],
                  stamp_ns: int = 0) -> fm.PoseInFrame:
    """A pose in :data:`FRAME`."""
    return fm.PoseInFrame(timestamp=timestamp(stamp_ns), frame_id=FRAME,
                          pose=pose(position, quat_xyzw))


def laser_scan(scan: ScanData, position: Sequence[float], quat_xyzw: Sequence[float],
               stamp_ns: int = 0) -> fm.LaserScan:
    """A scan as a Foxglove ``LaserScan`` in :data:`FRAME`, from the lidar pose given.

    Beams with no return (``inf``) or closer than the minimum (``-inf``) are sent as NaN.
    """
    ranges = np.asarray(scan.ranges, dtype=float)
    ranges = np.where(np.isfinite(ranges), ranges, np.nan)
    end = scan.angle_min + scan.angle_increment * max(len(ranges) - 1, 0)
    return fm.LaserScan(timestamp=timestamp(stamp_ns or scan.stamp_ns), frame_id=FRAME,
                        pose=pose(position, quat_xyzw), start_angle=float(scan.angle_min),
                        end_angle=float(end), ranges=ranges.tolist())


def path_entity(entity_id: str, points: np.ndarray, stamp_ns: int = 0,
                rgba: Sequence[float] = (1.0, 0.6, 0.0, 1.0)) -> fm.SceneEntity:
    """A line strip through ``points`` ``(n, 3)`` (e.g. the predicted path)."""
    line = fm.LinePrimitive(type=fm.LinePrimitiveLineType.LineStrip, pose=pose((0, 0, 0)),
                            thickness=0.03,
                            points=[fm.Point3(x=p[0], y=p[1], z=p[2])
                                    for p in np.asarray(points, dtype=float).tolist()],
                            color=_color(rgba))
    return fm.SceneEntity(timestamp=timestamp(stamp_ns), frame_id=FRAME, id=entity_id,
                          lines=[line])


def text_entity(entity_id: str, text: str, position: Sequence[float], stamp_ns: int = 0,
                rgba: Sequence[float] = (1.0, 1.0, 1.0, 1.0)) -> fm.SceneEntity:
    """A camera-facing text label at ``position`` (e.g. the safety and drift verdicts)."""
    label = fm.TextPrimitive(pose=pose(position), billboard=True, font_size=14.0,
                             scale_invariant=True, color=_color(rgba), text=text)
    return fm.SceneEntity(timestamp=timestamp(stamp_ns), frame_id=FRAME, id=entity_id,
                          texts=[label])
