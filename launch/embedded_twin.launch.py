"""Digital twin with the embedded MuJoCo simulator: no Gazebo, same topics and node.

    ros2 launch twin_bridge embedded_twin.launch.py world:=warehouse physical:=sim

The twin node loads the SDF world and the robot itself (backend:=embedded).
physical:=sim also starts the stand-in physical robot (physical_sim) for demos and tests.
If the twin node exits (e.g. FATAL at start-up on a bad parameter), the launch ends with its
message.
"""

from launch import LaunchDescription
from launch.actions import (
    DeclareLaunchArgument,
    IncludeLaunchDescription,
    LogInfo,
    OpaqueFunction,
    RegisterEventHandler,
    Shutdown,
)
from launch.conditions import IfCondition
from launch.event_handlers import OnProcessExit, OnProcessIO
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import EqualsSubstitution, LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

from twin_bridge.core.name_value import parse_name_value_text
from twin_bridge.gazebo.launch_support import (
    OutputTail,
    parse_bool,
    resolve_world,
    twin_node_overrides,
)


def _end_launch_when_exits(process, name):
    """``process`` and the handlers that end the launch when it exits, its last output lines
    as the reason - but not again while launch is already shutting down (a second Shutdown
    makes launch fail on exit)."""
    tail = OutputTail(name)

    def on_exit(event, context):
        if context.is_shutdown:
            return None
        reason = tail.exit_reason(event.returncode)
        return [LogInfo(msg=reason), Shutdown(reason=reason)]

    def feed(event):
        tail.feed(event.text)

    return [process,
            RegisterEventHandler(OnProcessIO(target_action=process, on_stdout=feed,
                                             on_stderr=feed)),
            RegisterEventHandler(OnProcessExit(target_action=process, on_exit=on_exit))]


def _twin_node(context):
    """The twin node: its overrides need the world resolved to a path and xacro args parsed
    (errors name the bad argument before anything starts)."""
    def arg(name):
        return LaunchConfiguration(name).perform(context)

    overrides = twin_node_overrides(
        backend='embedded', world=resolve_world(arg('world')),
        robot_description_file=arg('robot_description_file'),
        xacro_args=parse_name_value_text(arg('xacro_args'), 'xacro_args'),
        model_name=arg('model_name'), use_sim_time=parse_bool(arg('use_sim_time'),
                                                              'use_sim_time'),
        lidar_sensor=arg('lidar_sensor'))
    twin = Node(package='twin_bridge', executable='twin_bridge', name='twin_bridge',
                namespace=arg('namespace'), output='screen',
                parameters=[LaunchConfiguration('params_file'), overrides])
    return _end_launch_when_exits(twin, 'twin_bridge')


def generate_launch_description():
    """Arguments, the twin description, the twin node and, optionally, physical_sim."""
    share = FindPackageShare('twin_bridge')
    return LaunchDescription([
        # -- arguments ---------------------------------------------------------------------
        DeclareLaunchArgument(
            'world', default_value='warehouse',
            description='world: a file in twin_bridge/worlds by name (empty, warehouse, '
                        'obstacle_course) or a path to an SDF file'),
        DeclareLaunchArgument(
            'robot_description_file',
            default_value=PathJoinSubstitution([share, 'urdf', 'twin_robot.urdf.xacro']),
            description='robot xacro or URDF file, or an SDF model.sdf'),
        DeclareLaunchArgument(
            'lidar_sensor', default_value='',
            description="the robot's sensor simulated as the lidar ('' = the best level "
                        'multi-beam scanner among its lidar/ray sensors)'),
        DeclareLaunchArgument(
            'xacro_args', default_value='',
            description="xacro arguments as 'name:=value name2:=value2' (e.g. prefix:=r1_)"),
        DeclareLaunchArgument(
            'use_sim_time', default_value='false',
            description='use /clock; there is no simulator clock here, so keep false'),
        DeclareLaunchArgument(
            'namespace', default_value='',
            description='ROS namespace of the twin (robot_state_publisher, node, physical_sim)'),
        DeclareLaunchArgument(
            'model_name', default_value='twin_robot',
            description='name of the robot model inside the simulator'),
        DeclareLaunchArgument(
            'params_file',
            default_value=PathJoinSubstitution([share, 'config', 'twin_bridge.yaml']),
            description='parameters file of the twin_bridge node'),
        DeclareLaunchArgument(
            'physical', default_value='none', choices=['none', 'sim'],
            description="'sim' also starts physical_sim, the stand-in physical robot "
                        "publishing joint_states and odom; 'none' expects a real robot"),

        # -- robot_state_publisher (shared with gazebo_twin.launch.py) ---------------------
        # The twin's TF from its own joint states, on virtual/tf.
        IncludeLaunchDescription(
            PythonLaunchDescriptionSource(
                PathJoinSubstitution([share, 'launch', 'twin_description.launch.py'])),
            launch_arguments={
                'robot_description_file': LaunchConfiguration('robot_description_file'),
                'xacro_args': LaunchConfiguration('xacro_args'),
                'use_sim_time': LaunchConfiguration('use_sim_time'),
                'namespace': LaunchConfiguration('namespace'),
            }.items()),

        # -- stand-in physical robot (physical:=sim) ------------------------------------------
        # Same namespace as the twin, so its joint_states/odom are the twin node's inputs.
        Node(package='twin_bridge', executable='physical_sim', name='physical_sim',
             namespace=LaunchConfiguration('namespace'), output='screen',
             condition=IfCondition(EqualsSubstitution(LaunchConfiguration('physical'), 'sim'))),

        # -- the twin node (its exit ends the launch) ---------------------------------------
        OpaqueFunction(function=_twin_node),
    ])
