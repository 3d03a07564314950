"""Static checks of the launch files, bridge YAML and parameter YAML (no `launch` needed).

The launch files are parsed with ``ast``: every argument declared with a default and a
description, every LaunchConfiguration declared, every executable installed by its package,
every package a run dependency, Gazebo run without a shell. The
computed parts (bridge, spawn, node parameters) are checked through the same
``launch_support`` calls the launch files make. Where ``launch`` is importable (a ROS
machine), the launch descriptions are also built.
"""

import ast
import importlib.util
from pathlib import Path
import re
import xml.etree.ElementTree as ET

import pytest
import yaml

from twin_bridge.description.robot_description import default_robot_path, load_robot_description
from twin_bridge.gazebo.gz_bridge_config import load_bridge_config, required_bridge_config
from twin_bridge.gazebo.launch_support import plan_gazebo_twin, twin_node_overrides

REPO = Path(__file__).resolve().parent.parent
LAUNCH_FILES = sorted((REPO / 'launch').glob('*.launch.py'))
LAUNCH_TESTS = sorted((REPO / 'test').glob('test_*_launch.py'))
WORLDS = sorted((REPO / 'worlds').glob('*.sdf'))

# Executables of other packages the launch files may start (package -> executables).
KNOWN_EXECUTABLES = {
    'ros_gz_sim': {'create', 'remove'},
    'ros_gz_bridge': {'parameter_bridge'},
    'robot_state_publisher': {'robot_state_publisher'},
}
# Executables run through Command substitutions -> the package providing them.
COMMAND_PACKAGES = {'xacro': 'xacro'}


def _calls(tree: ast.AST, name: str) -> list[ast.Call]:
    def called(node: ast.Call) -> str | None:
        func = node.func
        return func.id if isinstance(func, ast.Name) else getattr(func, 'attr', None)
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call) and called(n) == name]


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _const(node: ast.expr | None):
    return node.value if isinstance(node, ast.Constant) else None


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding='utf-8'), filename=str(path))


def _console_scripts() -> set[str]:
    text = (REPO / 'setup.py').read_text(encoding='utf-8')
    return set(re.findall(r"'(\w+)\s*=\s*twin_bridge[\w.]*:\w+'", text))


def _exec_depends() -> set[str]:
    root = ET.parse(REPO / 'package.xml').getroot()
    return {e.text.strip() for tag in ('exec_depend', 'depend') for e in root.iter(tag)}


@pytest.fixture(scope='module')
def robot():
    return load_robot_description(default_robot_path())


def test_both_launch_files_exist():
    assert {p.name for p in LAUNCH_FILES} >= {'gazebo_twin.launch.py',
                                              'embedded_twin.launch.py'}


@pytest.mark.parametrize('path', LAUNCH_FILES, ids=lambda p: p.name)
def test_every_argument_has_a_default_and_a_description(path):
    declared = _calls(_tree(path), 'DeclareLaunchArgument')
    assert declared, f'{path.name} declares no arguments'
    names = []
    for call in declared:
        name = _const(call.args[0]) if call.args else _const(_keyword(call, 'name'))
        assert isinstance(name, str), f'{path.name}:{call.lineno}: argument name not a literal'
        names.append(name)
        assert _keyword(call, 'default_value') is not None, f'{name}: no default_value'
        description = _keyword(call, 'description')
        assert isinstance(_const(description), str) and _const(description).strip(), \
            f'{path.name}: argument {name} has no description'
    assert len(names) == len(set(names)), f'{path.name}: an argument is declared twice'


@pytest.mark.parametrize('path', LAUNCH_FILES, ids=lambda p: p.name)
def test_every_launch_configuration_is_declared(path):
    tree = _tree(path)
    declared = {_const(c.args[0]) for c in _calls(tree, 'DeclareLaunchArgument')}
    used = {_const(c.args[0]) for c in _calls(tree, 'LaunchConfiguration') if c.args}
    # arg('name') helpers inside OpaqueFunctions read LaunchConfiguration(name) too
    used |= {_const(c.args[0]) for c in _calls(tree, 'arg') if c.args}
    assert used - {None} <= declared, f'undeclared: {sorted(used - declared - {None})}'


def test_gazebo_launch_declares_what_the_issue_asks_for():
    declared = {_const(c.args[0])
                for c in _calls(_tree(REPO / 'launch' / 'gazebo_twin.launch.py'),
                                'DeclareLaunchArgument')}
    assert declared >= {'world', 'robot_description_file', 'xacro_args', 'headless', 'gui',
                        'use_sim_time', 'namespace', 'model_name', 'bridge_config',
                        'params_file', 'x', 'y', 'z', 'yaw'}


@pytest.mark.parametrize('path', LAUNCH_FILES, ids=lambda p: p.name)
def test_nodes_name_installed_executables_of_run_dependencies(path):
    scripts, depends = _console_scripts(), _exec_depends()
    nodes = _calls(_tree(path), 'Node')
    assert nodes
    for call in nodes:
        package, executable = _const(_keyword(call, 'package')), _const(
            _keyword(call, 'executable'))
        assert isinstance(package, str) and isinstance(executable, str), \
            f'{path.name}:{call.lineno}: package/executable must be literals'
        if package == 'twin_bridge':
            assert executable in scripts, f'{executable} is not a console script in setup.py'
        else:
            assert package in depends, f'{package} is not an exec_depend in package.xml'
            assert executable in KNOWN_EXECUTABLES.get(package, ()), f'{package}/{executable}'


@pytest.mark.parametrize('path', LAUNCH_FILES, ids=lambda p: p.name)
def test_packages_and_commands_used_are_run_dependencies(path):
    tree, depends = _tree(path), _exec_depends()
    for call in _calls(tree, 'FindPackageShare'):
        package = _const(call.args[0])
        assert package == 'twin_bridge' or package in depends, package
    for call in _calls(tree, 'Command'):
        first = call.args[0].elts[0] if isinstance(call.args[0], ast.List) else call.args[0]
        program = str(_const(first)).split()[0]
        assert COMMAND_PACKAGES.get(program) in depends, f'{program} in Command()'
    imported = {n.module.split('.')[0] for n in ast.walk(tree)
                if isinstance(n, ast.ImportFrom) and n.module}
    assert imported - {'twin_bridge'} <= depends, imported - depends


def _function(tree: ast.Module, name: str) -> ast.FunctionDef:
    return next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == name)


def _assigned(tree: ast.AST, call: ast.Call) -> str:
    """The name ``call``'s result is assigned to."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and node.value is call:
            return node.targets[0].id
    raise AssertionError(f'line {call.lineno}: {ast.unparse(call.func)}(...) is not assigned')


def test_gazebo_runs_directly_and_a_missing_gz_is_an_error():
    # Not through ros_gz_sim's gz_sim.launch.py: it runs gz in a shell, which launch's
    # shutdown signal reaches instead of Gazebo (left running: gazebosim/ros_gz#563).
    tree = _tree(REPO / 'launch' / 'gazebo_twin.launch.py')
    assert 'gz_sim.launch.py' not in ast.unparse(tree)
    gazebo = [c for c in _calls(tree, 'ExecuteProcess')
              if _const(_keyword(c, 'name')) == 'gazebo']
    assert len(gazebo) == 1
    call = gazebo[0]
    assert _keyword(call, 'shell') is None or _const(_keyword(call, 'shell')) is False
    assert ast.unparse(_keyword(call, 'cmd')) == 'plan.gz_command'
    assert 'gazebo_environment(' in ast.unparse(_keyword(call, 'additional_env'))
    # launch only logs a program it cannot start, with no exit event to end the launch: the
    # launch checks gz first (an exception in an OpaqueFunction ends the launch with it)
    function = _function(tree, '_gazebo_and_bridges')
    checks = _calls(function, 'require_executable')
    assert [ast.unparse(c.args[0]) for c in checks] == ['plan.gz_command[0]']
    assert checks[0].lineno < call.lineno and 'ros-jazzy-ros-gz' in ast.unparse(checks[0])


MAIN_LAUNCH_FILES = ['gazebo_twin.launch.py', 'embedded_twin.launch.py']
EXIT_HELPER = '_end_launch_when_exits'


@pytest.mark.parametrize('name, processes', [
    ('gazebo_twin.launch.py', {'twin_bridge', 'gazebo'}),
    ('embedded_twin.launch.py', {'twin_bridge'}),
])
def test_the_twin_node_and_gazebo_end_the_launch_when_they_exit(name, processes):
    """The defect: the launch kept running with the twin dead (FATAL at start-up) or Gazebo
    gone. Each such process goes through the exit helper, whose OnProcessExit handler on
    that very process emits Shutdown with the exit reason - unless launch is shutting down
    already (a second Shutdown makes launch fail on exit: gazebosim/ros_gz#617)."""
    tree = _tree(REPO / 'launch' / name)
    helper = _function(tree, EXIT_HELPER)
    process = helper.args.args[0].arg
    exits = [c for c in _calls(helper, 'OnProcessExit')
             if ast.unparse(_keyword(c, 'target_action')) == process]
    assert len(exits) == 1 and 'RegisterEventHandler(OnProcessExit(' in ast.unparse(helper)
    on_exit = _function(helper, ast.unparse(_keyword(exits[0], 'on_exit')))
    body = ast.unparse(on_exit)
    assert 'if context.is_shutdown:\n        return None' in body
    assert 'exit_reason(event.returncode)' in body and 'Shutdown(reason=reason)' in body
    assert 'LogInfo(msg=reason)' in body
    # the reason quotes the process's own last lines: its output feeds the tail
    io = _calls(helper, 'OnProcessIO')
    assert len(io) == 1 and ast.unparse(_keyword(io[0], 'target_action')) == process
    assert _keyword(io[0], 'on_stderr') is not None
    assert ast.unparse(helper.body[-1]).startswith(f'return [{process},')  # it is started

    started = {}
    for call in _calls(tree, 'Node') + _calls(tree, 'ExecuteProcess'):
        label = _const(_keyword(call, 'executable')) or _const(_keyword(call, 'name'))
        if label in processes:
            started[label] = _assigned(tree, call)
    assert set(started) == processes
    handled = {ast.unparse(c.args[0]) for c in _calls(tree, EXIT_HELPER)}
    assert set(started.values()) <= handled, f'not ending the launch: {started}'


def test_both_launch_files_share_one_exit_helper():
    # It cannot live in the package (nothing there imports launch): two copies, kept equal.
    helpers = {ast.unparse(_function(_tree(REPO / 'launch' / n), EXIT_HELPER)).split('"""')[-1]
               for n in MAIN_LAUNCH_FILES}
    assert len(helpers) == 1


def test_gazebo_launch_bridge_is_configured_for_wall_time_stamps():
    source = (REPO / 'launch' / 'gazebo_twin.launch.py').read_text(encoding='utf-8')
    assert "'override_timestamps_with_wall_time': True" in source
    assert "'config_file'" in source


def test_shipped_bridge_yaml_validates_and_covers_the_twin(robot):
    config = load_bridge_config(REPO / 'config' / 'gz_bridge.yaml', robot=robot)
    assert not config.has_clock  # the launch file's clock bridge owns /clock


@pytest.mark.parametrize('world', WORLDS, ids=lambda p: p.stem)
def test_gazebo_plan_for_every_shipped_world(world, robot, tmp_path):
    plan = plan_gazebo_twin(world=world.stem, headless='true', bridge_directory=tmp_path)
    config = plan.bridge.config
    world_name = plan.twin_parameters['gz_world_name']
    assert config.missing(required_bridge_config(robot, world_name=world_name)) == []
    # /clock: exactly once over the bridge config and the separate clock bridge
    assert int(config.has_clock) + len(plan.bridge.clock_arguments) == 1
    world_name = plan.twin_parameters['gz_world_name']
    assert world_name and plan.create_arguments[:2] == ['-world', world_name]
    assert plan.bridge.arguments == [
        f'/world/{world_name}/set_pose@ros_gz_interfaces/srv/SetEntityPose'
        '@gz.msgs.Pose@gz.msgs.Boolean']
    assert plan.twin_parameters['world'] == str(world.resolve())
    assert plan.gz_command[-3:] == ['-s', '--headless-rendering', str(world.resolve())]


def _node_parameters() -> set[str]:
    from twin_bridge.twin.node_config import PARAMETERS
    return set(PARAMETERS) | {'use_sim_time'}


def test_launch_overrides_are_parameters_the_node_declares():
    declared = _node_parameters()
    for backend in ('embedded', 'gazebo'):
        overrides = twin_node_overrides(backend=backend, world='w', xacro_args={'a': 'b'})
        assert set(overrides) <= declared, set(overrides) - declared


def test_twin_params_file_keys_are_parameters_the_node_declares():
    path = REPO / 'config' / 'twin_bridge.yaml'
    declared = _node_parameters()
    data = yaml.safe_load(path.read_text(encoding='utf-8'))
    assert isinstance(data, dict) and data, f'{path} is not a ROS parameters file'
    for node_name, section in data.items():
        params = section.get('ros__parameters') if isinstance(section, dict) else None
        assert isinstance(params, dict), f'{path}: {node_name} has no ros__parameters'
        assert set(params) <= declared, f'{path}: unknown {sorted(set(params) - declared)}'


@pytest.mark.parametrize('path', LAUNCH_TESTS, ids=lambda p: p.name)
def test_launch_tests_follow_the_launch_testing_shape(path):
    tree = _tree(path)
    source = path.read_text(encoding='utf-8')
    assert "pytest.importorskip('launch_testing'" in source
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    generate = functions.get('generate_test_description')
    assert generate is not None
    assert any('launch_test' in ast.unparse(d) for d in generate.decorator_list)
    assert 'ReadyToTest()' in ast.unparse(generate)
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    assert any(any('post_shutdown_test' in ast.unparse(d) for d in c.decorator_list)
               for c in classes), 'no post-shutdown exit-code test'
    assert 'assertExitCodes' in source
    # launch_testing's pytest plugin imports every test module while collecting: a skip
    # raised at import time there ends the collection of the whole folder. Only the skip
    # for launch_testing itself (no plugin without it) may run at module level.
    for call in _module_level_calls(tree):
        name = ast.unparse(call.func)
        if name == 'pytest.importorskip':
            assert _const(call.args[0]) == 'launch_testing', ast.unparse(call)
        assert name not in ('pytest.skip', 'skip', 'pytest.exit'), ast.unparse(call)


def _module_level_calls(tree: ast.Module) -> list[ast.Call]:
    """Calls run when the module is imported (not inside functions or classes)."""
    calls, stack = [], list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(node, ast.Call):
            calls.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return calls


def test_module_level_call_finder_sees_skips_in_branches():
    tree = ast.parse('import pytest\nif True:\n    pytest.skip("x", allow_module_level=True)\n'
                     'def f():\n    pytest.skip("in a test: fine")\n')
    assert [ast.unparse(c.func) for c in _module_level_calls(tree)] == ['pytest.skip']


def test_colcon_test_runs_pytest():
    # colcon-core runs pytest (rather than `setup.py test`, which finds none of these tests)
    # only for a package declaring pytest in tests_require or in the 'test' extra.
    call = next(n for n in ast.walk(_tree(REPO / 'setup.py')) if isinstance(n, ast.Call)
                and ast.unparse(n.func) == 'setup')
    declared = []
    tests_require = _keyword(call, 'tests_require')
    if isinstance(tests_require, ast.List):
        declared += [_const(e) for e in tests_require.elts]
    extras = _keyword(call, 'extras_require')
    if isinstance(extras, ast.Dict):
        for key, value in zip(extras.keys, extras.values, strict=True):
            if _const(key) in ('test', 'tests', 'testing') and isinstance(value, ast.List):
                declared += [_const(e) for e in value.elts]
    assert any(re.split(r'[ <>=!~;\[]', str(d))[0] == 'pytest' for d in declared), declared


@pytest.mark.parametrize('path', LAUNCH_FILES, ids=lambda p: p.name)
def test_launch_descriptions_build_where_launch_is_installed(path):
    # Not importorskip('launch'): this repo's launch/ folder imports as a namespace package.
    try:
        from launch import LaunchDescription
        import launch_ros  # noqa: F401
    except ImportError:
        pytest.skip('launch / launch_ros not installed (ROS 2 Jazzy only)')
    spec = importlib.util.spec_from_file_location(path.stem.replace('.', '_'), path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    description = module.generate_launch_description()
    assert isinstance(description, LaunchDescription)
    assert description.get_launch_arguments()


def test_ci_workflow_builds_with_colcon_and_runs_the_readme_test_command():
    workflow = yaml.safe_load((REPO / '.github' / 'workflows' / 'ros2-jazzy.yml').read_text())
    jobs = workflow['jobs']
    ros_steps = ' '.join(str(s.get('run', '')) for s in jobs['ros']['steps'])
    assert jobs['ros']['container']['image'] == 'ros:jazzy'
    for needed in ('ros-jazzy-ros-gz', 'rosdep install', 'colcon build', 'colcon test',
                   'colcon test-result', 'headless:=true', '--kill-after'):
        assert needed in ros_steps, needed
    # the smoke run proves Gazebo data reaches ROS; `ros2 topic echo` needs the type to wait
    # for a topic that does not exist yet (it exits at once otherwise)
    assert re.search(r'ros2 topic echo --once /\S+ \w+/msg/\w+', ros_steps)
    python_steps = ' '.join(str(s.get('run', '')) for s in jobs['python']['steps'])
    assert './run.sh test' in python_steps


DESCRIPTION_FILE = REPO / 'launch' / 'twin_description.launch.py'


def test_robot_state_publisher_keeps_the_twin_tf_apart():
    # tf2_ros broadcasters publish on the absolute /tf and /tf_static: only a remapping of
    # those absolute names moves them (the relative replacement lands in the namespace).
    # The URDF must reach robot_description as a string, never parsed as YAML.
    nodes = [c for c in _calls(_tree(DESCRIPTION_FILE), 'Node')
             if _const(_keyword(c, 'package')) == 'robot_state_publisher']
    assert len(nodes) == 1
    remaps = ast.literal_eval(_keyword(nodes[0], 'remappings'))
    assert ('/tf', 'virtual/tf') in remaps and ('/tf_static', 'virtual/tf_static') in remaps
    assert ('joint_states', 'virtual/joint_states') in remaps
    values = _calls(nodes[0], 'ParameterValue')
    assert len(values) == 1 and ast.unparse(_keyword(values[0], 'value_type')) == 'str'


@pytest.mark.parametrize('name', MAIN_LAUNCH_FILES)
def test_both_twins_include_the_one_twin_description(name):
    """One robot_state_publisher block, included with every one of its arguments passed
    through (LaunchConfiguration of the same name, declared by the including file)."""
    tree = _tree(REPO / 'launch' / name)
    assert not [c for c in _calls(tree, 'Node')
                if _const(_keyword(c, 'package')) == 'robot_state_publisher']
    includes = _calls(tree, 'IncludeLaunchDescription')
    assert len(includes) == 1
    source = includes[0].args[0]
    assert ast.unparse(source.func) == 'PythonLaunchDescriptionSource'
    assert ast.unparse(source.args[0]) == (
        "PathJoinSubstitution([share, 'launch', 'twin_description.launch.py'])")
    passed = _keyword(includes[0], 'launch_arguments')
    assert isinstance(passed, ast.Call) and passed.func.attr == 'items'
    arguments = passed.func.value
    assert isinstance(arguments, ast.Dict)
    description_args = {_const(c.args[0])
                        for c in _calls(_tree(DESCRIPTION_FILE), 'DeclareLaunchArgument')}
    assert {_const(k) for k in arguments.keys} == description_args
    for key, value in zip(arguments.keys, arguments.values, strict=True):
        assert ast.unparse(value) == f"LaunchConfiguration('{_const(key)}')"
