"""The core (top-level twin_bridge modules) must not depend on ROS: no rclpy/launch/messages."""

import ast
from pathlib import Path
import subprocess
import sys

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / 'twin_bridge'
ROS_ONLY = ('rclpy', 'launch', 'launch_ros', 'launch_testing', 'ros_gz_interfaces')
CORE_MODULES = sorted(p for p in PACKAGE.glob('*.py'))


def _imported_top_levels(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding='utf-8'), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split('.')[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split('.')[0])
    return names


def _is_ros(name: str) -> bool:
    return name in ROS_ONLY or name.endswith('_msgs') or name.endswith('_srvs')


@pytest.mark.parametrize('path', CORE_MODULES, ids=lambda p: p.name)
def test_core_module_imports_no_ros(path):
    offending = sorted(n for n in _imported_top_levels(path) if _is_ros(n))
    assert not offending, f'{path.name} imports ROS-only modules {offending}; move that to ros/'


def test_importing_every_core_module_loads_no_rclpy():
    modules = [f'twin_bridge.{p.stem}' for p in CORE_MODULES if p.stem != '__init__']
    code = (
        'import importlib, sys\n'
        f'for m in {modules!r}: importlib.import_module(m)\n'
        'bad = sorted(m for m in sys.modules if m.split(".")[0] in ("rclpy", "launch") '
        'or m.split(".")[0].endswith("_msgs"))\n'
        'print(",".join(bad))\n'
    )
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         timeout=120, cwd=PACKAGE.parent)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == '', f'core imports pulled in: {out.stdout.strip()}'
