"""Digital twin with the embedded MuJoCo simulator: no Gazebo, same topics and node.

    ros2 launch twin_bridge embedded_twin.launch.py world:=warehouse physical:=sim

The twin node loads the SDF world and the robot itself (backend:=embedded).
physical:=sim also starts the stand-in physical robot (physical_sim) for demos and tests.
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.conditions import IfCondition
from launch.substitutions import (
    Command,
    EqualsSubstitution,
    LaunchConfiguration,
    PathJoinSubstitution,
)
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare

from twin_bridge.gazebo.launch_support import (
    parse_bool,
    parse_xacro_args,
    resolve_world,
    twin_node_overrides,
)


def _twin_node(context):
    """The twin node: its overrides need the world resolved to a path and xacro args parsed
    (errors name the bad argument before anything starts)."""
    def arg(name):
        return LaunchConfiguration(name).perform(context)

    overrides = twin_node_overrides(
        backend='embedded', world=resolve_world(arg('world')),
        robot_description_file=arg('robot_description_file'),
        xacro_args=parse_xacro_args(arg('xacro_args')), model_name=arg('model_name'),
        use_sim_time=parse_bool(arg('use_sim_time'), 'use_sim_time'))
    return [Node(package='twin_bridge', executable='twin_bridge', name='twin_bridge',
                 namespace=arg('namespace'), output='screen',
                 parameters=[LaunchConfiguration('params_file'), overrides])]


def generate_launch_description():
    """Arguments, robot_state_publisher, the twin node and, optionally, physical_sim."""
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
            description='robot xacro or URDF file'),
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

        # -- robot_state_publisher -----------------------------------------------------------
        # The twin's TF from its own joint states, on virtual/tf so it never fights the
        # physical robot's TF (same frame names). value_type=str: keep the URDF a string.
        Node(package='robot_state_publisher', executable='robot_state_publisher',
             namespace=LaunchConfiguration('namespace'), output='screen',
             remappings=[('joint_states', 'virtual/joint_states'), ('/tf', 'virtual/tf'),
                         ('/tf_static', 'virtual/tf_static')],
             parameters=[{
                 'robot_description': ParameterValue(
                     Command(['xacro ', LaunchConfiguration('robot_description_file'), ' ',
                              LaunchConfiguration('xacro_args')]), value_type=str),
                 'use_sim_time': LaunchConfiguration('use_sim_time'),
             }]),

        # -- stand-in physical robot (physical:=sim) ------------------------------------------
        # Same namespace as the twin, so its joint_states/odom are the twin node's inputs.
        Node(package='twin_bridge', executable='physical_sim', name='physical_sim',
             namespace=LaunchConfiguration('namespace'), output='screen',
             condition=IfCondition(EqualsSubstitution(LaunchConfiguration('physical'), 'sim'))),

        # -- the twin node -------------------------------------------------------------------
        OpaqueFunction(function=_twin_node),
    ])
