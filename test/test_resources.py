"""URI resolution and share-directory lookup."""

from pathlib import Path

import pytest

from twin_bridge.description.resources import (
    find_world,
    fuel_cache_roots,
    model_search_path,
    resolve_uri,
    share_directory,
)
from twin_bridge.errors import ResourceNotFoundError


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


def test_remote_and_unknown_package_fail_clearly(tmp_path, monkeypatch):
    monkeypatch.setenv('GZ_FUEL_CACHE_PATH', str(tmp_path / 'cache'))
    with pytest.raises(ResourceNotFoundError, match='Fuel') as info:
        resolve_uri('https://fuel.gazebosim.org/1.0/OpenRobotics/models/Table')
    # The message says where the cache was looked for (owner and name lower-cased).
    assert str(tmp_path / 'cache' / 'fuel.gazebosim.org' / 'openrobotics' / 'models' / 'table') \
        in str(info.value)
    with pytest.raises(ResourceNotFoundError, match='not a Fuel model URL'):
        resolve_uri('https://example.com/meshes/a.stl')
    with pytest.raises(ResourceNotFoundError, match='no_such_pkg'):
        resolve_uri('package://no_such_pkg/meshes/a.stl')


def test_find_world_by_name_path_and_error():
    worlds = sorted((share_directory() / 'worlds').glob('*.sdf'))
    assert worlds, 'no worlds shipped'
    assert find_world(worlds[0].stem) == worlds[0]
    assert find_world(str(worlds[0])) == Path(worlds[0])
    with pytest.raises(ResourceNotFoundError, match='shipped worlds'):
        find_world('definitely_not_a_world')


FUEL = 'https://fuel.gazebosim.org/1.0/OpenRobotics/models/Construction Cone'


def _fuel_cache(root: Path, versions=(1, 2, 10), host: str = 'fuel.gazebosim.org') -> Path:
    """A cache laid out as Gazebo fills it: lower-cased owner and name, one dir per version."""
    model = root / host / 'openrobotics' / 'models' / 'construction cone'
    for version in versions:
        (model / str(version) / 'meshes').mkdir(parents=True)
        (model / str(version) / 'model.config').write_text(f'<model><version>{version}</version>'
                                                           '</model>')
        (model / str(version) / 'meshes' / 'cone.dae').write_text('<COLLADA/>')
    (model / 'notes').mkdir()  # not a version
    return model


def test_fuel_cache_roots_follow_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv('GZ_FUEL_CACHE_PATH', str(tmp_path))
    assert fuel_cache_roots() == [tmp_path]
    monkeypatch.delenv('GZ_FUEL_CACHE_PATH')
    monkeypatch.setenv('HOME', str(tmp_path / 'home'))
    assert fuel_cache_roots() == [tmp_path / 'home' / '.gz' / 'fuel',
                                  tmp_path / 'home' / '.ignition' / 'fuel']


def test_fuel_model_url_resolves_in_the_local_cache(tmp_path, monkeypatch):
    monkeypatch.setenv('GZ_FUEL_CACHE_PATH', str(tmp_path))
    model = _fuel_cache(tmp_path)
    # Newest numeric version (10, not "2" as text), with or without "tip" or a trailing slash.
    assert resolve_uri(FUEL) == model / '10'
    assert resolve_uri(FUEL + '/tip/') == model / '10'
    assert resolve_uri(FUEL.replace(' ', '%20')) == model / '10'
    assert resolve_uri(FUEL + '/2') == model / '2'
    assert resolve_uri(FUEL + '/1/files/meshes/cone.dae') == model / '1' / 'meshes' / 'cone.dae'
    assert resolve_uri(FUEL + '/files/meshes/cone.dae') == model / '10' / 'meshes' / 'cone.dae'
    # The pre-2022 host name finds the same cache entry.
    assert resolve_uri(FUEL.replace('gazebosim', 'ignitionrobotics')) == model / '10'


def test_fuel_cache_misses_are_named(tmp_path, monkeypatch):
    monkeypatch.setenv('GZ_FUEL_CACHE_PATH', str(tmp_path))
    model = _fuel_cache(tmp_path, versions=(1,))
    with pytest.raises(ResourceNotFoundError, match='no version 3 of it') as info:
        resolve_uri(FUEL + '/3')
    assert str(model) in str(info.value) and 'GZ_FUEL_CACHE_PATH' in str(info.value)
    with pytest.raises(ResourceNotFoundError, match='missing.dae does not exist'):
        resolve_uri(FUEL + '/1/files/meshes/missing.dae')
    with pytest.raises(ResourceNotFoundError, match='neither a number nor "tip"'):
        resolve_uri(FUEL + '/latest')


def test_package_uri_of_an_uninstalled_package_found_in_its_source_checkout(tmp_path,
                                                                           monkeypatch):
    monkeypatch.delenv('AMENT_PREFIX_PATH', raising=False)
    pkg = tmp_path / 'my_robot_description'
    (pkg / 'meshes').mkdir(parents=True)
    (pkg / 'urdf').mkdir()
    (pkg / 'meshes' / 'base.stl').write_text('solid x\nendsolid x\n')
    found = resolve_uri('package://my_robot_description/meshes/base.stl', base_dir=pkg / 'urdf')
    assert found == pkg / 'meshes' / 'base.stl'
    with pytest.raises(ResourceNotFoundError, match='meshes/wheel.stl.*my_robot_description'):
        resolve_uri('package://my_robot_description/meshes/wheel.stl', base_dir=pkg / 'urdf')
    # this package itself resolves from the checkout even without an ament index
    assert resolve_uri('package://twin_bridge/urdf/twin_robot.urdf.xacro').is_file()
