"""Tests for meshes: STL, OBJ and COLLADA loading, units, scale and bad files."""

from pathlib import Path

import numpy as np
import pytest

from twin_bridge.description.meshes import FLAT_MESH_THICKNESS, load_mesh
from twin_bridge.errors import ResourceNotFoundError, WorldLoadError

MESHES = Path(__file__).resolve().parent / 'data' / 'meshes'
SHIPPED = Path(__file__).resolve().parent.parent / 'models'


def _signed_volume(vertices: np.ndarray, faces: np.ndarray) -> float:
    """Reference: divergence theorem, one tetrahedron per face (positive if normals point out)."""
    total = 0.0
    for a, b, c in faces:
        total += float(np.dot(vertices[a], np.cross(vertices[b], vertices[c]))) / 6.0
    return total


@pytest.mark.parametrize('name', ['cube.stl', 'cube.obj', 'cube_cm.dae'])
def test_unit_cube_in_every_format(name):
    mesh = load_mesh(MESHES / name)
    assert mesh.vertices.shape == (8, 3)
    assert mesh.faces.shape == (12, 3) and mesh.faces.dtype == np.int32
    np.testing.assert_allclose(mesh.vertices.min(axis=0), [-0.5] * 3, atol=1e-6)
    np.testing.assert_allclose(mesh.vertices.max(axis=0), [0.5] * 3, atol=1e-6)
    assert _signed_volume(mesh.vertices, mesh.faces) == pytest.approx(1.0, rel=1e-5)


def test_collada_unit_is_applied():
    # cube_cm.dae stores a 100-unit cube with <unit meter="0.01">: 1 m after loading.
    text = (MESHES / 'cube_cm.dae').read_text()
    assert 'meter="0.01"' in text and '50.00000' in text
    mesh = load_mesh(MESHES / 'cube_cm.dae')
    assert np.ptp(mesh.vertices, axis=0) == pytest.approx([1.0, 1.0, 1.0], rel=1e-6)


def test_scale_and_mirroring_keep_outward_faces():
    mesh = load_mesh(MESHES / 'cube.obj', (2.0, 1.0, 0.5))
    np.testing.assert_allclose(np.ptp(mesh.vertices, axis=0), [2.0, 1.0, 0.5])
    assert _signed_volume(mesh.vertices, mesh.faces) == pytest.approx(1.0)
    mirrored = load_mesh(MESHES / 'cube.obj', (-1.0, 1.0, 1.0))
    assert _signed_volume(mirrored.vertices, mirrored.faces) == pytest.approx(1.0)


def test_flat_mesh_gets_one_unused_vertex_off_its_plane():
    mesh = load_mesh(MESHES / 'flat_quad.obj')
    assert mesh.vertices.shape == (5, 3)
    assert mesh.faces.max() == 3  # the extra vertex is in no face
    np.testing.assert_allclose(abs(mesh.vertices[4, 2]), FLAT_MESH_THICKNESS)
    np.testing.assert_allclose(mesh.vertices[4, :2], [0, 0], atol=1e-12)


@pytest.mark.parametrize('path', [
    SHIPPED / 'traffic_cone' / 'meshes' / 'traffic_cone.stl',
    SHIPPED / 'barrel' / 'meshes' / 'barrel.obj',
    SHIPPED / 'ramp' / 'meshes' / 'ramp.dae',
])
def test_shipped_meshes_are_closed_and_outward(path):
    mesh = load_mesh(path)
    assert _signed_volume(mesh.vertices, mesh.faces) > 0.01
    edges = np.sort(mesh.faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2), axis=1)
    _, counts = np.unique(edges, axis=0, return_counts=True)
    assert np.all(counts == 2)  # watertight: every edge shared by exactly two faces


def test_missing_mesh_file():
    with pytest.raises(ResourceNotFoundError, match='nothing.stl'):
        load_mesh(MESHES / 'nothing.stl')


def test_unsupported_format(tmp_path):
    path = tmp_path / 'model.ply'
    path.write_text('ply\n')
    with pytest.raises(WorldLoadError, match='unsupported mesh format ".ply"'):
        load_mesh(path)


def test_corrupt_mesh_file():
    with pytest.raises(WorldLoadError, match=r'broken\.stl'):
        load_mesh(MESHES / 'broken.stl')


def test_bad_scale():
    with pytest.raises(WorldLoadError, match='bad mesh scale'):
        load_mesh(MESHES / 'cube.stl', (1.0, 0.0, 1.0))
    with pytest.raises(WorldLoadError, match='bad mesh scale'):
        load_mesh(MESHES / 'cube.stl', (1.0, float('nan'), 1.0))


def test_bad_collada_unit(tmp_path):
    text = (MESHES / 'cube_cm.dae').read_text().replace('meter="0.01"', 'meter="abc"')
    path = tmp_path / 'bad_unit.dae'
    path.write_text(text)
    with pytest.raises(WorldLoadError, match='bad <unit'):
        load_mesh(path)
