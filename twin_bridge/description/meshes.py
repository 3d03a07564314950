"""Loading triangle meshes (STL, OBJ, COLLADA, glTF) as vertex and face arrays via trimesh."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
import xml.etree.ElementTree as ET

import numpy as np

from twin_bridge.description.mesh_cache import content_key, load_arrays, store_arrays
from twin_bridge.errors import ResourceNotFoundError, WorldLoadError

__all__ = ['MESH_SUFFIXES', 'TriangleMesh', 'load_mesh']

# glTF as Gazebo's assimp loader reads it: node transforms applied, no extra Y-up rotation.
MESH_SUFFIXES = ('.stl', '.obj', '.dae', '.glb', '.gltf')
# A flat mesh gets one extra vertex this far off its plane, so a convex hull exists.
FLAT_MESH_THICKNESS = 1e-4
# Bump when _parse changes what it returns: disk-cached meshes of older versions are ignored.
_PARSER_VERSION = 'meshes-1'


@dataclass(frozen=True)
class TriangleMesh:
    """``vertices`` (N, 3) float64 in metres and ``faces`` (M, 3) int32 indices into them.

    ``vertices`` may hold one extra vertex no face uses (see :func:`load_mesh`).
    """

    vertices: np.ndarray
    faces: np.ndarray


def load_mesh(path: str | Path, scale: tuple[float, float, float] = (1.0, 1.0, 1.0)
              ) -> TriangleMesh:
    """Read a mesh file, apply COLLADA ``<unit meter>`` and ``scale``, and return triangles.

    Every sub-mesh of the file is merged in its scene pose. A mirrored scale (odd number of
    negative factors) flips the face winding so normals keep pointing out. A flat mesh (all
    vertices in one plane) gets one extra vertex :data:`FLAT_MESH_THICKNESS` off the plane and
    used by no face: MuJoCo needs a non-degenerate convex hull, ray casts only hit faces.

    :raise ResourceNotFoundError: the file does not exist
    :raise WorldLoadError: unknown format, unreadable or empty mesh, bad scale
    """
    path = Path(path)
    if not path.is_file():
        raise ResourceNotFoundError(f'mesh file {path} does not exist')
    if path.suffix.lower() not in MESH_SUFFIXES:
        raise WorldLoadError(
            f'{path}: unsupported mesh format "{path.suffix}" (supported: '
            f'{", ".join(MESH_SUFFIXES)})')
    scale_arr = np.asarray(scale, dtype=float)
    if scale_arr.shape != (3,) or not np.all(np.isfinite(scale_arr)) or np.any(scale_arr == 0):
        raise WorldLoadError(f'{path}: bad mesh scale {tuple(scale)}')
    vertices, faces = _read(str(path.resolve()), path.stat().st_mtime_ns)
    vertices = vertices * scale_arr
    if np.prod(np.sign(scale_arr)) < 0:
        faces = faces[:, ::-1]
    vertices = _thicken_if_flat(vertices)
    return TriangleMesh(vertices, np.ascontiguousarray(faces, dtype=np.int32))


@lru_cache(maxsize=64)
def _read(path: str, _mtime_ns: int) -> tuple[np.ndarray, np.ndarray]:
    """Unscaled ``(vertices, faces)`` of a file; cached per path and modification time in the
    process, and on disk by the file's content (:mod:`mesh_cache`), so a new process reads a
    large COLLADA file as fast as a small array file."""
    key = content_key(_PARSER_VERSION, Path(path).suffix.lower(), Path(path).read_bytes())
    stored = load_arrays('meshes', key)
    if stored is not None and {'vertices', 'faces'} <= set(stored):
        vertices, faces = stored['vertices'], stored['faces']
    else:
        vertices, faces = _parse(path)
        store_arrays('meshes', key, {'vertices': vertices, 'faces': faces})
    vertices.setflags(write=False)
    faces.setflags(write=False)
    return vertices, faces


def _parse(path: str) -> tuple[np.ndarray, np.ndarray]:
    """Read a mesh file with trimesh (COLLADA units applied)."""
    import trimesh

    collada = path.lower().endswith('.dae')
    try:
        loaded = trimesh.load(path, force='mesh', process=True)
        cause = ''
    except Exception as exc:  # trimesh raises many types for corrupt input
        if not collada:
            raise WorldLoadError(f'{path}: cannot read mesh: {exc}') from None
        loaded, cause = None, f'{type(exc).__name__}: {exc}'
    vertices, faces = _arrays(loaded)
    if collada and len(faces) == 0:
        # Gazebo's loader (assimp) shrugs off broken materials; pycollada/trimesh do not.
        cause = cause or _collada_problem(path)
        vertices, faces = _arrays(_load_without_materials(path))
    if faces.ndim != 2 or len(faces) == 0 or len(vertices) < 3:
        reason = f'cannot read COLLADA: {cause}' if cause else 'mesh has no triangles'
        raise WorldLoadError(f'{path}: {reason}')
    if not np.all(np.isfinite(vertices)):
        raise WorldLoadError(f'{path}: mesh has non-finite vertices')
    if path.lower().endswith('.dae'):
        vertices = vertices * _collada_unit(path)
    return vertices, faces


def _arrays(loaded: object) -> tuple[np.ndarray, np.ndarray]:
    """``(vertices, faces)`` of what trimesh loaded (empty for ``None`` or a scene)."""
    vertices = np.asarray(getattr(loaded, 'vertices', np.zeros((0, 3))), dtype=float)
    faces = np.asarray(getattr(loaded, 'faces', np.zeros((0, 3))), dtype=np.int32)
    return vertices, faces.reshape(-1, 3) if faces.size else np.zeros((0, 3), np.int32)


def _collada_problem(path: str) -> str:
    """What pycollada says about a COLLADA file trimesh read as empty (``''``: nothing)."""
    try:
        import collada

        collada.Collada(path)
    except Exception as exc:  # pycollada's errors are many and untyped
        return f'{type(exc).__name__}: {exc}'
    return ''


def _load_without_materials(path: str) -> object | None:
    """The COLLADA file's geometry with its effects and materials left out (trimesh), or
    ``None`` if even that fails."""
    import io

    import trimesh

    try:
        root = ET.parse(path).getroot()
    except ET.ParseError:
        return None
    for parent in list(root.iter()):
        for child in list(parent):
            tag = child.tag.rsplit('}', 1)[-1]
            if tag in ('library_effects', 'library_materials', 'library_images',
                       'bind_material'):
                parent.remove(child)
            elif tag in ('triangles', 'polylist', 'polygons') and 'material' in child.attrib:
                del child.attrib['material']
    try:
        return trimesh.load(io.BytesIO(ET.tostring(root)), file_type='dae', force='mesh',
                            process=True)
    except Exception:  # still unreadable: the caller names the first cause
        return None


def _collada_unit(path: str) -> float:
    """Metres per unit from a COLLADA file's ``<asset><unit meter=..>`` (1 if absent)."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise WorldLoadError(f'{path}: malformed COLLADA: {exc}') from None
    for elem in root.iter():
        if elem.tag.rsplit('}', 1)[-1] == 'unit' and elem.get('meter'):
            try:
                meter = float(elem.get('meter'))
            except ValueError:
                raise WorldLoadError(f'{path}: bad <unit meter="{elem.get("meter")}">') from None
            if not np.isfinite(meter) or meter <= 0:
                raise WorldLoadError(f'{path}: bad <unit meter="{elem.get("meter")}">')
            return meter
    return 1.0


def _thicken_if_flat(vertices: np.ndarray) -> np.ndarray:
    centred = vertices - vertices.mean(axis=0)
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    extent = float(singular[0]) if len(singular) else 0.0
    if extent == 0.0:
        return vertices
    if len(singular) == 3 and singular[2] > 1e-9 * extent and len(vertices) >= 4:
        return vertices
    normal = vt[-1] if len(singular) == 3 else np.cross(vt[0], vt[1])
    apex = vertices.mean(axis=0) + FLAT_MESH_THICKNESS * normal / np.linalg.norm(normal)
    return np.vstack([vertices, apex])
