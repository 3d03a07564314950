"""The package installs into the standard ROS layout with pip and with colcon."""

import os
from pathlib import Path
import shutil
import subprocess
import sys
import sysconfig

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARE_DIRS = ('launch', 'worlds', 'models', 'urdf', 'config')
EXECUTABLES = ('twin_bridge', 'physical_sim', 'twin_demo')
pytestmark = pytest.mark.slow


def _copy_source(dest: Path) -> Path:
    ignore = shutil.ignore_patterns('.git', '.venv', 'build', 'install', 'log', '__pycache__',
                                    '*.egg-info', 'reports', '.pytest_cache', '.ruff_cache')
    shutil.copytree(REPO, dest, ignore=ignore)
    return dest


def _expected_share_files() -> list[Path]:
    files = []
    for top in SHARE_DIRS:
        files += [p.relative_to(REPO) for p in (REPO / top).rglob('*')
                  if p.is_file() and '__pycache__' not in p.parts]
    return files


def _share_lookup(prefix: Path, python_path: str) -> str:
    env = dict(os.environ, AMENT_PREFIX_PATH=str(prefix), PYTHONPATH=python_path)
    code = ('from ament_index_python.packages import get_package_share_directory as g; '
            'from twin_bridge.description.resources import share_directory as s; '
            'print(g("twin_bridge")); print(s())')
    out = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True, text=True,
                         timeout=120, cwd='/')
    assert out.returncode == 0, out.stderr
    return out.stdout


def _can_build_wheels() -> bool:
    import importlib.util

    import setuptools
    major, minor = (int(x) for x in setuptools.__version__.split('.')[:2])
    return (major, minor) >= (70, 1) or importlib.util.find_spec('wheel') is not None


def test_pip_install_gives_share_files_and_ament_index(tmp_path):
    if not _can_build_wheels():
        pytest.skip('setuptools < 70.1 without the wheel package cannot build the package '
                    '(./run.sh installs both)')
    src = _copy_source(tmp_path / 'src')
    prefix = tmp_path / 'prefix'
    out = subprocess.run([sys.executable, '-m', 'pip', 'install', '-q', '--no-deps',
                          '--no-build-isolation', '--prefix', str(prefix), str(src)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    share = prefix / 'share' / 'twin_bridge'
    assert (prefix / 'share/ament_index/resource_index/packages/twin_bridge').is_file()
    missing = [str(f) for f in _expected_share_files() if not (share / f).is_file()]
    assert not missing, f'not installed: {missing[:10]}'
    site = sysconfig.get_path('purelib', vars={'base': str(prefix)})
    lookup = _share_lookup(prefix, site)
    assert lookup.splitlines() == [str(share), str(share)]


def test_colcon_build_gives_ros_layout(tmp_path):
    colcon = shutil.which('colcon') or str(Path(sys.executable).parent / 'colcon')
    if not Path(colcon).exists():
        pytest.skip('colcon is not installed (pip install colcon-core colcon-ros)')
    ws = tmp_path / 'ws'
    _copy_source(ws / 'src' / 'twin_bridge')
    out = subprocess.run([colcon, 'build'], cwd=ws, capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
    prefix = ws / 'install' / 'twin_bridge'
    for exe in EXECUTABLES:  # where launch_ros's Node(package=, executable=) looks
        path = prefix / 'lib' / 'twin_bridge' / exe
        assert path.is_file() and os.access(path, os.X_OK), f'missing executable {path}'
    share = prefix / 'share' / 'twin_bridge'
    missing = [str(f) for f in _expected_share_files() if not (share / f).is_file()]
    assert not missing, f'not installed by colcon: {missing[:10]}'
    site = next((prefix / 'lib').glob('python3*/site-packages'))
    assert _share_lookup(prefix, str(site)).splitlines() == [str(share), str(share)]
    # The installed node executable starts and explains itself.
    env = dict(os.environ, AMENT_PREFIX_PATH=str(prefix), PYTHONPATH=str(site))
    helped = subprocess.run([sys.executable, str(prefix / 'lib/twin_bridge/twin_bridge'),
                             '--help'], env=env, capture_output=True, text=True, timeout=120)
    assert helped.returncode == 0, helped.stderr
    assert 'backend' in helped.stdout
