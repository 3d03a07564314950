"""The robot's expanded URDF and the robot test data pass the Debian validators.

``check_urdf`` (liburdfdom-tools) and ``ign sdf -k`` (ignition-tools + libsdformat) are
installed by CI; without them these tests skip and say so.
"""

import os
from pathlib import Path
import shutil
import subprocess

import pytest

from twin_bridge.description.robot_description import default_robot_path, expand_xacro

DATA = Path(__file__).resolve().parent / 'data'
ROBOT_ARGS = [
    {},
    {'prefix': 'r1_', 'gz_topic_prefix': '/robot1'},
    {'lidar': 'false'},
    {'lidar_samples': '360', 'lidar_min_angle': '-1.5', 'lidar_max_angle': '1.5',
     'lidar_range_min': '0.2', 'lidar_range_max': '30', 'lidar_rate': '40',
     'lidar_noise_stddev': '0'},
]
FIXTURE_URDFS = [DATA / 'robots' / 'nav2_like.urdf',
                 DATA / 'robots' / 'tb3_like_description' / 'urdf' / 'tb3_like.urdf']
SCAN_WORLDS = DATA / 'scan_worlds'


def run(cmd: list[str], env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


def need(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f'{tool} not installed (Debian: liburdfdom-tools / ignition-tools '
                    'libsdformat-dev ruby)')


def expanded(tmp_path: Path, args: dict) -> Path:
    path = tmp_path / 'twin_robot.urdf'
    path.write_text(expand_xacro(default_robot_path(), args))
    return path


@pytest.mark.parametrize('args', ROBOT_ARGS, ids=lambda a: ','.join(a) or 'defaults')
def test_expanded_robot_passes_check_urdf(tmp_path, args):
    need('check_urdf')
    result = run(['check_urdf', str(expanded(tmp_path, args))])
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'Successfully Parsed XML' in result.stdout
    assert f'root Link: {args.get("prefix", "")}base_link' in result.stdout


@pytest.mark.parametrize('args', ROBOT_ARGS, ids=lambda a: ','.join(a) or 'defaults')
def test_expanded_robot_passes_ign_sdf_check(tmp_path, args):
    need('ign')
    result = run(['ign', 'sdf', '-k', str(expanded(tmp_path, args))])
    assert result.returncode == 0 and 'Valid' in result.stdout, result.stdout + result.stderr


def test_expanded_robot_converts_with_sensor_and_plugins(tmp_path):
    need('ign')
    result = run(['ign', 'sdf', '-p', str(expanded(tmp_path, {}))])
    assert result.returncode == 0, result.stderr
    sdf = result.stdout
    assert "<sensor name='lidar' type='gpu_lidar'>" in sdf
    # preserveFixedJoint keeps lidar_link a link of its own (the scan frame).
    assert "<link name='lidar_link'>" in sdf
    for plugin in ('JointStatePublisher', 'OdometryPublisher', 'JointPositionController'):
        assert f'gz::sim::systems::{plugin}' in sdf
    assert sdf.count('gz::sim::systems::JointPositionController') == 4


@pytest.mark.parametrize('path', FIXTURE_URDFS, ids=lambda p: p.name)
def test_fixture_robots_pass_check_urdf(path):
    need('check_urdf')
    result = run(['check_urdf', str(path)])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize('path', sorted(SCAN_WORLDS.glob('**/*.sdf')), ids=lambda p: p.name)
def test_scan_worlds_pass_ign_sdf_check(path):
    need('ign')
    result = run(['ign', 'sdf', '-k', str(path)], env={'SDF_PATH': str(SCAN_WORLDS / 'models')})
    assert result.returncode == 0 and 'Valid' in result.stdout, result.stdout + result.stderr
