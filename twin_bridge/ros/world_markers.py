"""The twin's world as a ``visualization_msgs/MarkerArray``: what RViz, Foxglove and bags show."""

from __future__ import annotations

from collections.abc import Sequence

from geometry_msgs.msg import Point
import mujoco
import numpy as np
from visualization_msgs.msg import Marker, MarkerArray

from twin_bridge.embedded.scene_geometry import GeomShape, SceneGeometry
from twin_bridge.ros.conversions import ns_to_time

__all__ = ['NAMESPACE', 'world_markers_to_msg']

#: The markers' namespace.
NAMESPACE = 'twin_world'
WORLD_RGBA = (0.6, 0.6, 0.65, 1.0)
_G = mujoco.mjtGeom


def _quat_xyzw(rotation: np.ndarray) -> tuple[float, float, float, float]:
    wxyz = np.zeros(4)
    mujoco.mju_mat2Quat(wxyz, np.ascontiguousarray(rotation, dtype=float).reshape(9))
    return float(wxyz[1]), float(wxyz[2]), float(wxyz[3]), float(wxyz[0])


def _marker(marker_id: int, kind: int, position: np.ndarray, rotation: np.ndarray,
            scale: Sequence[float], frame_id: str, stamp_ns: int) -> Marker:
    marker = Marker(ns=NAMESPACE, id=marker_id, type=kind, action=Marker.ADD,
                    frame_locked=True)
    marker.header.frame_id = frame_id
    marker.header.stamp = ns_to_time(stamp_ns)
    p = marker.pose.position
    p.x, p.y, p.z = (float(v) for v in position)
    o = marker.pose.orientation
    o.x, o.y, o.z, o.w = _quat_xyzw(rotation)
    marker.scale.x, marker.scale.y, marker.scale.z = (float(v) for v in scale)
    c = marker.color
    c.r, c.g, c.b, c.a = WORLD_RGBA
    return marker


def _shape_markers(shape: GeomShape, first_id: int, frame_id: str,
                   stamp_ns: int) -> list[Marker]:
    size, pos, rot = shape.size, shape.position, shape.rotation
    if shape.kind == _G.mjGEOM_BOX:
        return [_marker(first_id, Marker.CUBE, pos, rot, 2 * size, frame_id, stamp_ns)]
    if shape.kind == _G.mjGEOM_SPHERE:
        return [_marker(first_id, Marker.SPHERE, pos, rot, [2 * size[0]] * 3, frame_id,
                        stamp_ns)]
    if shape.kind == _G.mjGEOM_ELLIPSOID:
        return [_marker(first_id, Marker.SPHERE, pos, rot, 2 * size, frame_id, stamp_ns)]
    if shape.kind in (_G.mjGEOM_CYLINDER, _G.mjGEOM_CAPSULE):
        radius, half = size[0], size[1]
        out = [_marker(first_id, Marker.CYLINDER, pos, rot, [2 * radius, 2 * radius, 2 * half],
                       frame_id, stamp_ns)]
        if shape.kind == _G.mjGEOM_CAPSULE:  # the caps as spheres
            out += [_marker(first_id + 1 + k, Marker.SPHERE, pos + rot[:, 2] * sign * half, rot,
                            [2 * radius] * 3, frame_id, stamp_ns)
                    for k, sign in enumerate((-1.0, 1.0))]
        return out
    if shape.kind == _G.mjGEOM_MESH and shape.triangles is not None:
        marker = _marker(first_id, Marker.TRIANGLE_LIST, pos, rot, (1.0, 1.0, 1.0), frame_id,
                         stamp_ns)
        marker.points = [Point(x=x, y=y, z=z) for x, y, z in shape.triangles.tolist()]
        return [marker]
    return []


def world_markers_to_msg(geometry: SceneGeometry, frame_id: str = 'odom',
                         stamp_ns: int = 0) -> MarkerArray:
    """The world's collision geometry as markers in ``frame_id``: a DELETEALL of namespace
    :data:`NAMESPACE`, then boxes as cubes, spheres and ellipsoids as spheres, cylinders as
    cylinders (capsules with two spheres for their caps) and meshes as triangle lists."""
    clear = Marker(ns=NAMESPACE, action=Marker.DELETEALL)
    clear.header.frame_id = frame_id
    markers = [clear]
    for shape in geometry.world_shapes:
        markers += _shape_markers(shape, len(markers), frame_id, stamp_ns)
    return MarkerArray(markers=markers)
