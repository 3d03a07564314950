"""The package's layers only point down, and nothing below the ROS layer needs ROS.

Every import in every module counts, including imports inside functions (run-time imports)
and ``TYPE_CHECKING`` blocks, so a lazily imported rclpy observer is caught too.
"""

import ast
from pathlib import Path
import subprocess
import sys

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / 'twin_bridge'

# Layers, lowest first. A module may import its own layer and the layers before it.
LAYERS = ('errors', 'core', 'description', 'embedded', 'gazebo', 'twin', 'stand_in',
          'recording', 'scenarios', 'learning', 'fleet', 'mqtt', 'ros', 'demo')
# Layers that sit side by side: neither may import the other.
SIBLINGS = {('embedded', 'gazebo')}
ROS_LAYERS = {'ros', 'demo'}
ROS_ONLY = ('rclpy', 'launch', 'launch_ros', 'launch_testing', 'launch_testing_ros',
            'ros_gz_interfaces', 'rosidl_runtime_py', 'rcl_interfaces', 'builtin_interfaces')
SIMULATORS = ('mujoco',)
MODULES = sorted(p for p in PACKAGE.rglob('*.py') if '__pycache__' not in p.parts)


def _layer(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    if len(rel.parts) == 1:
        return 'root' if rel.stem in ('__init__',) else rel.stem
    return rel.parts[0]


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix('')
    parts = list(rel.parts)
    if parts[-1] == '__init__':
        parts.pop()
    return '.'.join(parts)


def _imports(path: Path) -> set[str]:
    """Every module name imported anywhere in the file (absolute, relative ones resolved)."""
    package = _module_name(path).split('.')
    if path.name != '__init__.py':
        package = package[:-1]
    return _imports_in(path.read_text(encoding='utf-8'), package)


def _imports_in(source: str, package: list[str]) -> set[str]:
    tree = ast.parse(source)
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                names.add('.'.join(base + ([node.module] if node.module else [])))
            elif node.module:
                names.add(node.module)
        elif (isinstance(node, ast.Call) and getattr(node.func, 'attr', '') == 'import_module'
              and node.args and isinstance(node.args[0], ast.Constant)):
            names.add(str(node.args[0].value))
    return names


def _is_ros(name: str) -> bool:
    top = name.split('.')[0]
    return top in ROS_ONLY or top.endswith('_msgs') or top.endswith('_srvs')


def _target_layer(name: str) -> str | None:
    parts = name.split('.')
    if parts[0] != 'twin_bridge' or len(parts) == 1:
        return None
    return parts[1]


def test_every_module_is_in_a_known_layer():
    unknown = sorted({_layer(p) for p in MODULES} - set(LAYERS) - {'root'})
    assert not unknown, f'modules outside the layers {LAYERS}: {unknown}'


@pytest.mark.parametrize('path', MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down(path):
    layer = _layer(path)
    if layer == 'root':
        allowed = set()
    else:
        rank = LAYERS.index(layer)
        allowed = {lay for lay in LAYERS[:rank + 1]
                   if (lay, layer) not in SIBLINGS and (layer, lay) not in SIBLINGS}
    bad = sorted(n for n in _imports(path)
                 if _target_layer(n) is not None and _target_layer(n) not in allowed)
    assert not bad, f'{path.relative_to(PACKAGE)} ({layer}) imports upward or sideways: {bad}'


@pytest.mark.parametrize('path', [p for p in MODULES if _layer(p) not in ROS_LAYERS],
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_below_ros_nothing_imports_ros(path):
    bad = sorted(n for n in _imports(path) if _is_ros(n))
    assert not bad, f'{path.relative_to(PACKAGE)} imports ROS-only modules {bad}; move it to ros/'


@pytest.mark.parametrize('path', [p for p in MODULES if _layer(p) in ('core', 'description')],
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_descriptions_import_no_simulator(path):
    bad = sorted(n for n in _imports(path) if n.split('.')[0] in SIMULATORS)
    assert not bad, f'{path.relative_to(PACKAGE)} imports a simulator: {bad}'


def test_the_checker_sees_function_level_and_relative_imports():
    source = ('def f():\n    from twin_bridge.ros.observer import X\n    import rclpy\n'
              'from ..ros import qos\n')
    found = _imports_in(source, ['twin_bridge', 'twin'])
    assert {'twin_bridge.ros.observer', 'rclpy', 'twin_bridge.ros'} <= found


def test_importing_every_module_below_ros_loads_no_rclpy():
    modules = [_module_name(p) for p in MODULES if _layer(p) not in ROS_LAYERS]
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
    assert out.stdout.strip() == '', f'modules below ros/ pulled in: {out.stdout.strip()}'
