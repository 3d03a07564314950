"""A concave static mesh room for the dynamics tests: a 6 x 4 m room with 0.2 m walls and a
1 m doorway in its south wall, as ONE closed mesh (an extruded C-shaped outline), in an SDF
world; and its analytic lidar ranges."""

from pathlib import Path

import numpy as np

HEIGHT = 2.5
#: The room's outline (counter-clockwise; the doorway spans x in [-0.5, 0.5] at y = -2).
OUTLINE = [(0.5, -2.0), (3.0, -2.0), (3.0, 2.0), (-3.0, 2.0), (-3.0, -2.0), (-0.5, -2.0),
           (-0.5, -1.8), (-2.8, -1.8), (-2.8, 1.8), (2.8, 1.8), (2.8, -1.8), (0.5, -1.8)]


def _ear_clip(poly: np.ndarray) -> list[tuple[int, int, int]]:
    """Triangles of a simple counter-clockwise polygon (ear clipping)."""
    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    idx, tris = list(range(len(poly))), []
    while len(idx) > 3:
        for k in range(len(idx)):
            i0, i1, i2 = idx[k - 1], idx[k], idx[(k + 1) % len(idx)]
            a, b, c = poly[i0], poly[i1], poly[i2]
            if cross(a, b, c) <= 0:
                continue
            if any(cross(a, b, poly[j]) >= 0 and cross(b, c, poly[j]) >= 0
                   and cross(c, a, poly[j]) >= 0 for j in idx if j not in (i0, i1, i2)):
                continue
            tris.append((i0, i1, i2))
            idx.pop(k)
            break
        else:
            raise ValueError('not a simple counter-clockwise polygon')
    tris.append((idx[0], idx[1], idx[2]))
    return tris


def extrude(outline, height: float) -> tuple[np.ndarray, np.ndarray]:
    """A closed, outward-facing prism of ``outline`` from z = 0 to ``height``."""
    poly = np.asarray(outline, dtype=float)
    n = len(poly)
    vertices = np.vstack([np.c_[poly, np.zeros(n)], np.c_[poly, np.full(n, height)]])
    caps = _ear_clip(poly)
    faces = [(c, b, a) for a, b, c in caps] + [(a + n, b + n, c + n) for a, b, c in caps]
    for i in range(n):
        j = (i + 1) % n
        faces += [(i, j, j + n), (i, j + n, i + n)]
    return vertices, np.array(faces)


def write_room_world(directory: Path) -> Path:
    """``room.obj`` and ``doorway_room.sdf`` (the room as one static mesh, a ground plane)
    in ``directory``; the world's path."""
    directory = Path(directory)
    vertices, faces = extrude(OUTLINE, HEIGHT)
    lines = [f'v {x} {y} {z}' for x, y, z in vertices]
    lines += [f'f {a + 1} {b + 1} {c + 1}' for a, b, c in faces]
    (directory / 'room.obj').write_text('\n'.join(lines) + '\n')
    world = directory / 'doorway_room.sdf'
    world.write_text(
        '<?xml version="1.0"?><sdf version="1.9"><world name="doorway_room">'
        '<model name="ground"><static>true</static><link name="link"><collision name="c">'
        '<geometry><plane><normal>0 0 1</normal><size>20 20</size></plane></geometry>'
        '</collision></link></model>'
        '<model name="room"><static>true</static><link name="link"><collision name="walls">'
        '<geometry><mesh><uri>room.obj</uri></mesh></geometry></collision></link></model>'
        '</world></sdf>')
    return world


def analytic_ranges(origin: np.ndarray, headings: np.ndarray) -> np.ndarray:
    """Distance from ``origin`` (x, y) along each heading to the outline's nearest edge
    (``inf`` through the doorway)."""
    d = np.stack([np.cos(headings), np.sin(headings)], axis=1)
    poly = np.asarray(OUTLINE)
    best = np.full(len(headings), np.inf)
    for a, b in zip(poly, np.roll(poly, -1, axis=0), strict=True):
        e = b - a
        denom = d[:, 0] * e[1] - d[:, 1] * e[0]
        w = a - origin[:2]
        with np.errstate(divide='ignore', invalid='ignore'):
            t = (w[0] * e[1] - w[1] * e[0]) / denom
            s = (w[0] * d[:, 1] - w[1] * d[:, 0]) / denom
        hit = (np.abs(denom) > 1e-12) & (t > 0) & (s >= 0) & (s <= 1)
        best = np.where(hit, np.minimum(best, t), best)
    return best
