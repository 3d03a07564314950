"""URI resolution and share-directory lookup."""

from pathlib import Path

import pytest

from twin_bridge.errors import ResourceNotFoundError
from twin_bridge.resources import find_world, model_search_path, resolve_uri, share_directory


def test_share_directory_is_the_checkout():
    share = share_directory()
    assert (share / 'package.xml').is_file()
    assert (share / 'worlds').is_dir()


def test_model_uri_uses_search_path_then_env(tmp_path, monkeypatch):
    first, second = tmp_path / 'a', tmp_path / 'b'
    (second / 'crate').mkdir(parents=True)
    (second / 'crate' / 'model.sdf').write_text('<sdf/>')
    first.mkdir()
    assert resolve_uri('model://crate/model.sdf', search_path=[first, second]) == \
        second / 'crate' / 'model.sdf'
    monkeypatch.setenv('GZ_SIM_RESOURCE_PATH', str(second))
    assert second in model_search_path()
    assert resolve_uri('model://crate').is_dir()


def test_unknown_model_names_uri_and_path(tmp_path):
    with pytest.raises(ResourceNotFoundError, match='model://nope.*GZ_SIM_RESOURCE_PATH'):
        resolve_uri('model://nope', search_path=[tmp_path])


def test_relative_and_file_uris(tmp_path):
    (tmp_path / 'mesh.stl').write_text('solid x\nendsolid x\n')
    assert resolve_uri('mesh.stl', base_dir=tmp_path) == tmp_path / 'mesh.stl'
    assert resolve_uri(f'file://{tmp_path}/mesh.stl') == tmp_path / 'mesh.stl'
    with pytest.raises(ResourceNotFoundError, match='missing.stl'):
        resolve_uri('missing.stl', base_dir=tmp_path)


def test_remote_and_unknown_package_fail_clearly():
    with pytest.raises(ResourceNotFoundError, match='Fuel'):
        resolve_uri('https://fuel.gazebosim.org/1.0/OpenRobotics/models/Table')
    with pytest.raises(ResourceNotFoundError, match='no_such_pkg'):
        resolve_uri('package://no_such_pkg/meshes/a.stl')


def test_find_world_by_name_path_and_error():
    worlds = sorted((share_directory() / 'worlds').glob('*.sdf'))
    if not worlds:
        pytest.skip('no worlds shipped yet')
    assert find_world(worlds[0].stem) == worlds[0]
    assert find_world(str(worlds[0])) == Path(worlds[0])
    with pytest.raises(ResourceNotFoundError, match='shipped worlds'):
        find_world('definitely_not_a_world')
