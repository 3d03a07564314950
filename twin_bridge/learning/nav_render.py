"""A top-down RGB image of a navigation episode (matplotlib Agg: no display, no GPU)."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use('Agg')
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PatchCollection
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Polygon
import mujoco
import numpy as np

from twin_bridge.learning.nav_batch import NavBatch
from twin_bridge.learning.nav_scene import NavScene

__all__ = ['TopDownRenderer']

_ROUND = (mujoco.mjtGeom.mjGEOM_CYLINDER, mujoco.mjtGeom.mjGEOM_SPHERE,
          mujoco.mjtGeom.mjGEOM_CAPSULE, mujoco.mjtGeom.mjGEOM_ELLIPSOID)


class TopDownRenderer:
    """Draws obstacles (footprints of their bounding boxes, circles for round geoms), the
    robot (its footprint radius and heading), the observed beams and the goal.

    :param scene: the scene drawn
    :param region: ``(xmin, ymin, xmax, ymax)`` shown (with a margin)
    :param size: image width and height (pixels)
    """

    def __init__(self, scene: NavScene, region: tuple[float, float, float, float],
                 size: int = 400) -> None:
        self.scene = scene
        self.figure = Figure(figsize=(size / 100, size / 100), dpi=100)
        self.canvas = FigureCanvasAgg(self.figure)
        self.ax = self.figure.add_axes((0, 0, 1, 1))
        margin = 0.5
        x0, y0, x1, y1 = scene.bounds
        self.ax.set_xlim(min(x0, region[0]) - margin, max(x1, region[2]) + margin)
        self.ax.set_ylim(min(y0, region[1]) - margin, max(y1, region[3]) + margin)
        self.ax.set_aspect('equal', adjustable='box')
        self.ax.set_axis_off()

    def close(self) -> None:
        """Drop the figure."""
        self.figure.clear()

    def render(self, batch: NavBatch, i: int) -> np.ndarray:
        """The image of copy ``i`` of ``batch`` as it is now, ``(H, W, 3)`` uint8."""
        scene, ax = self.scene, self.ax
        m, d = batch.models[i], batch.datas[i]
        for artist in list(ax.patches) + list(ax.lines) + list(ax.collections):
            artist.remove()
        patches = []
        for g in np.flatnonzero(scene.obstacle_geom):
            if d.geom_xpos[g, 2] < -1.0:  # a parked spare obstacle
                continue
            patches.append(_footprint(m, d, g))
        ax.add_collection(PatchCollection(patches, facecolor='0.55', edgecolor='0.3'))
        x, y = batch.qpos[i, 0], batch.qpos[i, 1]
        w, qz = batch.qpos[i, 3], batch.qpos[i, 6]
        yaw = 2.0 * math.atan2(qz, w)
        ranges = np.where(batch.hit_geom[i] < 0, np.nan, batch.raw[i])
        angles = batch.observation.beam_angles + yaw
        origin = d.site_xpos[scene.lidar_site]
        hx, hy = origin[0] + ranges * np.cos(angles), origin[1] + ranges * np.sin(angles)
        for px, py in zip(hx, hy, strict=True):
            if np.isfinite(px):
                ax.plot([origin[0], px], [origin[1], py], color='tab:red', lw=0.4, alpha=0.5)
        ax.plot(hx, hy, '.', color='tab:red', ms=3)
        r = scene.robot_radius
        ax.add_patch(Circle((x, y), r, facecolor='tab:blue', edgecolor='navy'))
        ax.plot([x, x + r * math.cos(yaw)], [y, y + r * math.sin(yaw)], color='white', lw=2)
        gx, gy = batch.goal[i]
        ax.add_patch(Circle((gx, gy), batch.config.goal_tolerance, facecolor='none',
                            edgecolor='tab:green', lw=2))
        ax.plot([gx], [gy], '*', color='tab:green', ms=12)
        self.canvas.draw()
        return np.asarray(self.canvas.buffer_rgba())[:, :, :3].copy()


def _footprint(m: mujoco.MjModel, d: mujoco.MjData, g: int) -> Polygon | Circle:
    """A geom's outline seen from above."""
    pos = d.geom_xpos[g]
    if m.geom_type[g] in _ROUND and abs(d.geom_xmat[g, 8]) > 0.99:
        return Circle((pos[0], pos[1]), float(m.geom_size[g, 0]))
    rot = d.geom_xmat[g].reshape(3, 3)
    centre, half = m.geom_aabb[g, :3], m.geom_aabb[g, 3:]
    corners = np.array([[sx * half[0], sy * half[1], 0.0]
                        for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1))]) + centre
    world = corners @ rot.T + pos
    return Polygon(world[:, :2], closed=True)
