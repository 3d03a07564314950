"""Concave static meshes split into convex parts (CoACD) for MuJoCo's contacts, cached on disk.

MuJoCo collides a mesh as its convex hull: a room modelled as one mesh is, for contacts, a
solid block, and a robot driving through its doorway is stopped at the hull. The parts CoACD
finds collide instead; ray casts keep the exact triangles (see ``mujoco_world``).
"""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import time

import mujoco
import numpy as np

from twin_bridge.description.mesh_cache import content_key, load_arrays, store_arrays
from twin_bridge.description.meshes import TriangleMesh
from twin_bridge.errors import WorldLoadError

__all__ = ['COACD_PARAMETERS', 'MIN_HULL_GAP', 'convex_parts', 'hull_gap']

LOGGER = logging.getLogger(__name__)

#: ``coacd.run_coacd`` keyword arguments (part of the cache key).
#: (CoACD's defaults but a coarser search: about 5x faster on small meshes, same parts on
#: the rooms and cones tried.)
COACD_PARAMETERS = {'threshold': 0.05, 'max_convex_hull': -1, 'preprocess_mode': 'auto',
                    'preprocess_resolution': 30, 'resolution': 1000, 'mcts_nodes': 10,
                    'mcts_iterations': 60, 'mcts_max_depth': 2, 'seed': 0}
#: A mesh whose hull reaches less than this (m) beyond it collides as its hull: a robot
#: meets the hull at most this early (a traffic cone's base, a chamfer), not worth the parts.
MIN_HULL_GAP = 0.05
# Hull faces sampled by hull_gap (a large mesh's hull has thousands).
_GAP_SAMPLES = 2000
# Seconds between "still decomposing" log lines.
_PROGRESS_PERIOD = 10.0


def hull_gap(mesh: TriangleMesh) -> float:
    """How far (m) the mesh's convex hull reaches beyond it: the longest way in from the
    hull's surface (at the centre of each hull face, along its inward normal) before the mesh
    is met; the hull's size when a ray meets nothing (a room's hull over its empty inside).
    0 for a convex mesh."""
    model, hull_faces = _compiled(mesh)
    data = mujoco.MjData(model)
    mujoco.mj_kinematics(model, data)
    rot = data.geom_xmat[0].reshape(3, 3)
    vertices = model.mesh_vert.astype(np.float64) @ rot.T + data.geom_xpos[0]
    tri = vertices[hull_faces]
    normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    area = np.linalg.norm(normal, axis=1)
    keep = area > 1e-12 * max(float(area.max()), 1e-300)
    tri, inward = tri[keep], -normal[keep] / area[keep, None]
    if len(tri) > _GAP_SAMPLES:
        pick = np.random.default_rng(0).choice(len(tri), _GAP_SAMPLES, replace=False)
        tri, inward = tri[pick], inward[pick]
    size = float(np.max(np.ptp(vertices, axis=0)))
    start = tri.mean(axis=1) - inward * 1e-6 * size  # just outside the hull face
    geomid = np.zeros(1, dtype=np.int32)
    gap = 0.0
    for point, direction in zip(start, inward, strict=True):
        hit = mujoco.mj_ray(model, data, point, direction, None, 1, -1, geomid)
        gap = max(gap, size if hit < 0 else float(hit))
    return gap


def convex_parts(mesh: TriangleMesh, name: str) -> tuple[TriangleMesh, ...] | None:
    """The convex parts of a concave ``mesh`` (``None`` if it is convex enough to collide as
    its hull, see :data:`MIN_HULL_GAP`), from the disk cache when this mesh was seen
    before with these parameters. Slow decompositions are logged with their progress.

    :param name: what the log calls the mesh (its file)
    """
    key = content_key('coacd-1', repr(sorted(COACD_PARAMETERS.items())), _coacd_version(),
                      np.ascontiguousarray(mesh.vertices, dtype=np.float64).tobytes(),
                      np.ascontiguousarray(mesh.faces, dtype=np.int32).tobytes())
    stored = load_arrays('convex_parts', key)
    if stored is not None:
        count = int(stored['count'])
        if count == 0:
            return None
        return tuple(TriangleMesh(stored[f'v{i}'], stored[f'f{i}']) for i in range(count))
    gap = hull_gap(mesh)
    if gap < MIN_HULL_GAP:
        store_arrays('convex_parts', key, {'count': np.array(0)})
        return None
    parts = _decompose(mesh, name, gap)
    arrays: dict[str, np.ndarray] = {'count': np.array(len(parts))}
    for i, part in enumerate(parts):
        arrays[f'v{i}'], arrays[f'f{i}'] = part.vertices, part.faces
    store_arrays('convex_parts', key, arrays)
    return parts


# CoACD runs in a child process: its library, once loaded, makes a later ``import rclpy``
# crash the process (coacd 1.0.14), and a child also keeps a long decomposition killable.
_WORKER = """
import io, sys, json
import numpy as np
import coacd
coacd.set_log_level('error')
data = np.load(io.BytesIO(sys.stdin.buffer.read()))
parts = coacd.run_coacd(coacd.Mesh(data['vertices'], data['faces']), **json.loads(sys.argv[1]))
out = {}
for i, (v, f) in enumerate(parts):
    out[f'v{i}'], out[f'f{i}'] = np.asarray(v, np.float64), np.asarray(f, np.int32)
buffer = io.BytesIO()
np.savez(buffer, count=np.array(len(parts)), **out)
sys.stdout.buffer.write(buffer.getvalue())
"""


def _decompose(mesh: TriangleMesh, name: str, gap: float) -> tuple[TriangleMesh, ...]:
    LOGGER.info('%s: concave (its hull reaches %.2f m beyond it): splitting its %d '
                'triangles into convex parts for contacts (CoACD; cached for the next load)',
                name, gap, len(mesh.faces))
    start = time.monotonic()
    request = io.BytesIO()
    np.savez(request, vertices=np.asarray(mesh.vertices, dtype=np.float64),
             faces=np.asarray(mesh.faces, dtype=np.int32))
    with subprocess.Popen([sys.executable, '-c', _WORKER, json.dumps(COACD_PARAMETERS)],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE) as worker:
        payload = request.getvalue()
        while True:
            try:
                out, err = worker.communicate(payload, timeout=_PROGRESS_PERIOD)
                break
            except subprocess.TimeoutExpired:
                payload = None
                LOGGER.info('%s: still decomposing (%.0f s)', name, time.monotonic() - start)
    if worker.returncode != 0:
        raise WorldLoadError(f'{name}: convex decomposition (CoACD) failed: '
                             f'{err.decode(errors="replace").strip()[-500:]}')
    with np.load(io.BytesIO(out)) as stored:
        parts = tuple(TriangleMesh(stored[f'v{i}'], stored[f'f{i}'])
                      for i in range(int(stored['count'])) if len(stored[f'f{i}']))
    LOGGER.info('%s: %d convex parts in %.1f s', name, len(parts), time.monotonic() - start)
    return parts


def _coacd_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version('coacd')
    except PackageNotFoundError:
        return 'unknown'


def _compiled(mesh: TriangleMesh) -> tuple[mujoco.MjModel, np.ndarray]:
    """A model of the mesh alone (one geom) and its convex hull's faces (indices into the
    compiled mesh's vertices, as MuJoCo computes the hull it collides with)."""
    spec = mujoco.MjSpec()
    spec.add_mesh(name='m', uservert=mesh.vertices.ravel(), userface=mesh.faces.ravel(),
                  inertia=mujoco.mjtMeshInertia.mjMESH_INERTIA_SHELL)
    spec.worldbody.add_geom(type=mujoco.mjtGeom.mjGEOM_MESH, meshname='m')
    model = spec.compile()
    graph = model.mesh_graph
    numvert, numface = int(graph[0]), int(graph[1])
    start = 2 + 3 * numvert + 3 * numface  # after vert_edgeadr, vert_globalid, edge_localid
    return model, graph[start:start + 3 * numface].reshape(-1, 3).astype(np.int64)
