"""Tests for mesh_cache and the parsed-mesh disk cache of meshes.load_mesh."""

from pathlib import Path
import shutil

import numpy as np
import pytest

from twin_bridge.description import mesh_cache, meshes
from twin_bridge.description.meshes import load_mesh

DATA = Path(__file__).resolve().parent / 'data' / 'meshes'


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(mesh_cache.CACHE_DIR_ENV, str(tmp_path / 'cache'))
    meshes._read.cache_clear()
    yield tmp_path / 'cache'
    meshes._read.cache_clear()


def test_cache_dir_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(mesh_cache.CACHE_DIR_ENV, str(tmp_path))
    assert mesh_cache.cache_dir() == tmp_path
    monkeypatch.setenv(mesh_cache.CACHE_DIR_ENV, 'off')
    assert mesh_cache.cache_dir() is None
    monkeypatch.delenv(mesh_cache.CACHE_DIR_ENV)
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path / 'xdg'))
    assert mesh_cache.cache_dir() == tmp_path / 'xdg' / 'twin_bridge'


def test_a_new_process_reads_a_parsed_mesh_from_disk(cache, tmp_path, monkeypatch):
    source = tmp_path / 'cube_cm.dae'
    shutil.copy(DATA / 'cube_cm.dae', source)
    first = load_mesh(source)
    assert list((cache / 'meshes').glob('*.npz'))
    meshes._read.cache_clear()  # as a new process would start

    def refuse(_path):
        raise AssertionError('parsed again instead of reading the disk cache')

    monkeypatch.setattr(meshes, '_parse', refuse)
    again = load_mesh(source)
    np.testing.assert_array_equal(again.vertices, first.vertices)
    np.testing.assert_array_equal(again.faces, first.faces)


def test_the_key_is_the_content_not_the_path(cache, tmp_path, monkeypatch):
    a, b = tmp_path / 'a.obj', tmp_path / 'b.obj'
    shutil.copy(DATA / 'cube.obj', a)
    shutil.copy(DATA / 'cube.obj', b)
    load_mesh(a)
    load_mesh(b)
    assert len(list((cache / 'meshes').glob('*.npz'))) == 1
    b.write_text(b.read_text().replace('v 0.5', 'v 0.7', 1))  # edited: a new entry
    meshes._read.cache_clear()
    load_mesh(b)
    assert len(list((cache / 'meshes').glob('*.npz'))) == 2


def test_a_corrupt_cache_entry_is_recomputed(cache, tmp_path, caplog):
    source = tmp_path / 'cube.obj'
    shutil.copy(DATA / 'cube.obj', source)
    expected = load_mesh(source)
    (entry,) = (cache / 'meshes').glob('*.npz')
    entry.write_bytes(b'not an npz file')
    meshes._read.cache_clear()
    again = load_mesh(source)
    np.testing.assert_array_equal(again.vertices, expected.vertices)
    assert 'unreadable' in caplog.text


def test_an_unwritable_cache_is_one_warning_not_an_error(tmp_path, monkeypatch, caplog):
    blocker = tmp_path / 'file'
    blocker.write_text('x')
    monkeypatch.setenv(mesh_cache.CACHE_DIR_ENV, str(blocker / 'cache'))
    meshes._read.cache_clear()
    mesh_cache.store_arrays('meshes', 'k1', {'a': np.zeros(1)})
    mesh_cache.store_arrays('meshes', 'k2', {'a': np.zeros(1)})
    assert caplog.text.count('cannot write') == 1
    assert load_mesh(DATA / 'cube.obj').faces.shape[1] == 3
    meshes._read.cache_clear()
