"""Checks of the shipped world and model files: the SDFormat validator and project conventions."""

import os
from pathlib import Path
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

REPO = Path(__file__).resolve().parent.parent
WORLDS = sorted((REPO / 'worlds').glob('*.sdf'))
MODEL_DIRS = sorted(p for p in (REPO / 'models').iterdir() if (p / 'model.config').is_file())
REQUIRED_PLUGINS = {
    'gz-sim-physics-system': 'gz::sim::systems::Physics',
    'gz-sim-sensors-system': 'gz::sim::systems::Sensors',
    'gz-sim-scene-broadcaster-system': 'gz::sim::systems::SceneBroadcaster',
    'gz-sim-user-commands-system': 'gz::sim::systems::UserCommands',
}


def _ids(paths):
    return [str(p.relative_to(REPO)) for p in paths]


def test_files_found():
    assert {p.stem for p in WORLDS} >= {'empty', 'warehouse', 'obstacle_course'}
    assert len(MODEL_DIRS) >= 5


@pytest.mark.parametrize('path', WORLDS + [d / 'model.sdf' for d in MODEL_DIRS],
                         ids=_ids(WORLDS + [d / 'model.sdf' for d in MODEL_DIRS]))
def test_sdformat_validator_accepts(path):
    """``ign sdf -k`` (libsdformat) with the package's models on the resource path.

    Its exit code is not trusted (it can be 0 on errors): the output must say "Valid." and
    contain no "Error".
    """
    ign = shutil.which('ign')
    if ign is None:
        pytest.skip('ign not installed (Debian: apt-get install ignition-tools libsdformat-dev)')
    env = dict(os.environ)
    models = str(REPO / 'models')
    for var in ('SDF_PATH', 'GZ_SIM_RESOURCE_PATH', 'IGN_GAZEBO_RESOURCE_PATH'):
        env[var] = os.pathsep.join(p for p in (models, env.get(var, '')) if p)
    result = subprocess.run([ign, 'sdf', '-k', str(path)], capture_output=True, text=True,
                            env=env, timeout=60, check=False)
    output = result.stdout + result.stderr
    assert 'Valid.' in result.stdout, output
    assert 'Error' not in output, output


@pytest.mark.parametrize('path', WORLDS, ids=_ids(WORLDS))
def test_world_conventions(path):
    root = ET.parse(path).getroot()
    assert root.get('version') == '1.9'  # what the validator here (libsdformat 12) can check
    world = root.find('world')
    assert world.get('name') == path.stem
    plugins = {p.get('filename'): p for p in world.findall('plugin')}
    for filename, name in REQUIRED_PLUGINS.items():
        assert plugins[filename].get('name') == name
    assert plugins['gz-sim-sensors-system'].findtext('render_engine') == 'ogre2'
    assert world.find('scene') is not None
    assert any(light.get('type') == 'directional' for light in world.findall('light'))
    uris = [inc.findtext('uri') for inc in world.iter('include')]
    assert 'model://ground_plane' in uris


@pytest.mark.parametrize('model_dir', MODEL_DIRS, ids=_ids(MODEL_DIRS))
def test_model_directory_layout(model_dir):
    config = ET.parse(model_dir / 'model.config').getroot()
    assert config.findtext('name') == model_dir.name
    sdf_files = [s.text.strip() for s in config.findall('sdf')]
    assert sdf_files == ['model.sdf']
    root = ET.parse(model_dir / 'model.sdf').getroot()
    assert root.get('version') == '1.9'
    named = root.find('model') if root.find('model') is not None else root.find('light')
    assert named.get('name') == model_dir.name
    for uri in root.iter('uri'):
        text = uri.text.strip()
        if text.startswith('model://'):
            target = REPO / 'models' / text[len('model://'):]
        else:
            target = model_dir / text
        assert target.is_file(), text
