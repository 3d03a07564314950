"""Ground truth of test/data/scan_worlds/scan_room.sdf in the plane of the scan (see the
comment in the file): analytic ranges for the tests of every ray caster."""

from pathlib import Path

import numpy as np

SCAN_WORLDS = Path(__file__).resolve().parent / 'data' / 'scan_worlds'
ROOM = SCAN_WORLDS / 'scan_room.sdf'
SEARCH = [SCAN_WORLDS / 'models']

BOXES = [  # (xmin, xmax, ymin, ymax)
    (4.0, 4.2, -3.2, 3.2), (-4.2, -4.0, -3.2, 3.2),
    (-4.2, 4.2, 3.0, 3.2), (-4.2, 4.2, -3.2, -3.0),
    (-2.2, -1.8, -1.7, -1.3),
]
CIRCLES = [(2.0, 1.5, 0.3), (-1.5, 2.0, 0.25)]  # (x, y, radius)


def analytic_ranges(origin: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """Distance along each world-frame heading from a 2D origin to the nearest obstacle."""
    dx, dy = np.cos(angles), np.sin(angles)
    best = np.full(angles.shape, np.inf)
    with np.errstate(divide='ignore', invalid='ignore'):
        for xmin, xmax, ymin, ymax in BOXES:
            tx1, tx2 = (xmin - origin[0]) / dx, (xmax - origin[0]) / dx
            ty1, ty2 = (ymin - origin[1]) / dy, (ymax - origin[1]) / dy
            t_near = np.maximum(np.minimum(tx1, tx2), np.minimum(ty1, ty2))
            t_far = np.minimum(np.maximum(tx1, tx2), np.maximum(ty1, ty2))
            hit = (t_near <= t_far) & (t_near > 0)
            best = np.where(hit, np.minimum(best, t_near), best)
    for cx, cy, r in CIRCLES:
        ox, oy = origin[0] - cx, origin[1] - cy
        b = ox * dx + oy * dy
        disc = b * b - (ox * ox + oy * oy - r * r)
        t = -b - np.sqrt(np.maximum(disc, 0.0))
        best = np.where((disc >= 0) & (t > 0), np.minimum(best, t), best)
    return best
