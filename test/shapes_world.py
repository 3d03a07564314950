"""A world like Gazebo's ``examples/worlds/3k_shapes.sdf``, generated: ``n`` boxes, cylinders and
spheres (1 m, dynamic models with inertia) in three rows along x, 1.5 m apart, on a ground plane.

Used by the scan-culling tests and ``bench/bench_large_world.py``; analytic ranges for a
horizontal beam at height 0.5 from a point in the corridor between two rows are in
:func:`analytic_ranges`.
"""

from pathlib import Path

import numpy as np

SPACING = 1.5
ROWS = (('box', 0.0), ('cylinder', -1.5), ('sphere', 1.5))  # (shape, y)

_HEADER = '''<?xml version="1.0" ?>
<sdf version="1.6">
  <world name="shapes">
    <physics name="1ms" type="ignored"><max_step_size>0.001</max_step_size></physics>
    <model name="ground_plane">
      <static>true</static>
      <link name="link"><collision name="collision"><geometry>
        <plane><normal>0 0 1</normal><size>100 100</size></plane>
      </geometry></collision></link>
    </model>
'''
_GEOMETRY = {
    'box': '<box><size>1 1 1</size></box>',
    'cylinder': '<cylinder><radius>0.5</radius><length>1.0</length></cylinder>',
    'sphere': '<sphere><radius>0.5</radius></sphere>',
}


def shapes_x(per_row: int) -> np.ndarray:
    """x of the shapes in each row (centred on 0 like the Gazebo example's -750..750)."""
    return (np.arange(per_row) - per_row // 2) * SPACING


def shapes_world_sdf(per_row: int = 1000) -> str:
    """The SDF text of ``3 * per_row`` shapes."""
    parts = [_HEADER]
    for k, x in enumerate(shapes_x(per_row)):
        for shape, y in ROWS:
            parts.append(
                f'    <model name="{shape}_{k}"><pose>{x} {y} 0.5 0 0 0</pose>\n'
                f'      <link name="{shape}_link"><inertial><mass>1.0</mass><inertia><ixx>1</ixx>'
                f'<ixy>0</ixy><ixz>0</ixz><iyy>1</iyy><iyz>0</iyz><izz>1</izz></inertia>'
                f'</inertial>\n        <collision name="{shape}_collision"><geometry>'
                f'{_GEOMETRY[shape]}</geometry></collision></link></model>\n')
    parts.append('  </world>\n</sdf>\n')
    return ''.join(parts)


def write_shapes_world(directory: Path, per_row: int = 1000) -> Path:
    """Write ``shapes.sdf`` with ``3 * per_row`` shapes into ``directory``; its path."""
    path = Path(directory) / 'shapes.sdf'
    path.write_text(shapes_world_sdf(per_row))
    return path


def analytic_ranges(origin: np.ndarray, angles: np.ndarray, per_row: int = 1000) -> np.ndarray:
    """Ranges of horizontal beams from ``origin`` (x, y, z with 0 < z < 1) to the nearest
    shape's cross-section at height z (a square, a disc of radius 0.5, a circle of radius
    sqrt(0.25 - (z - 0.5)^2))."""
    sphere_r2 = 0.25 - (origin[2] - 0.5) ** 2
    dx, dy = np.cos(angles)[:, None], np.sin(angles)[:, None]
    xs = shapes_x(per_row)[None, :]
    best = np.full(angles.shape, np.inf)
    with np.errstate(divide='ignore', invalid='ignore'):
        for shape, y in ROWS:
            if shape == 'box':
                tx1, tx2 = (xs - 0.5 - origin[0]) / dx, (xs + 0.5 - origin[0]) / dx
                ty1, ty2 = (y - 0.5 - origin[1]) / dy, (y + 0.5 - origin[1]) / dy
                near = np.maximum(np.minimum(tx1, tx2), np.minimum(ty1, ty2))
                far = np.minimum(np.maximum(tx1, tx2), np.maximum(ty1, ty2))
                t = np.where((near <= far) & (near > 0), near, np.inf)
            else:
                ox, oy = origin[0] - xs, origin[1] - y
                b = ox * dx + oy * dy
                r2 = 0.25 if shape == 'cylinder' else sphere_r2
                disc = b * b - (ox * ox + oy * oy - r2)
                root = -b - np.sqrt(np.maximum(disc, 0.0))
                t = np.where((disc >= 0) & (root > 0), root, np.inf)
            best = np.minimum(best, t.min(axis=1))
    return best
