"""A twin of a fleet with the embedded MuJoCo simulator: every robot in one world.

    ros2 launch twin_bridge fleet_twin.launch.py fleet_file:=my_fleet.yaml physical:=sim
    ros2 launch twin_bridge fleet_twin.launch.py fleet_file:=my_fleet.yaml shard:=1/3

Starts the twin_fleet node for the fleet file (or its shard's share of it) and, per served
robot, a robot_state_publisher in the robot's namespace (the twin's TF, frames prefixed like
the twin's outputs) and, with physical:=sim, a stand-in physical robot. If the twin node
exits (e.g. FATAL at start-up on a bad fleet file), the launch ends with its message.
"""

from launch import LaunchDescription
from launch.actions import (
    DeclareLaunchArgument,
    LogInfo,
    OpaqueFunction,
    RegisterEventHandler,
    Shutdown,
)
from launch.event_handlers import OnProcessExit, OnProcessIO
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare

from twin_bridge.fleet.launch_plan import plan_fleet_launch
from twin_bridge.gazebo.launch_support import OutputTail, parse_bool


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


def _fleet(context):
    """Per served robot its robot_state_publisher (and stand-in), then the fleet twin; the
    fleet file is read here, so a bad one is named before anything starts."""
    def arg(name):
        return LaunchConfiguration(name).perform(context)

    fleet_file, world, shard = arg('fleet_file'), arg('world'), arg('shard')
    _, robots = plan_fleet_launch(fleet_file, world=world, shard=shard)
    physical = arg('physical') == 'sim'
    actions = []
    for robot in robots:
        # The twin's TF from its virtual joint states, on /<ns>/virtual/tf, frames prefixed
        # as the twin's outputs are (frame_prefix), so robots never share a frame name.
        actions.append(Node(
            package='robot_state_publisher', executable='robot_state_publisher',
            namespace=robot.namespace, output='screen',
            remappings=[('joint_states', 'virtual/joint_states'), ('/tf', 'virtual/tf'),
                        ('/tf_static', 'virtual/tf_static')],
            parameters=[{'robot_description': ParameterValue(robot.urdf_xml, value_type=str),
                         'frame_prefix': robot.frame_prefix,
                         'use_sim_time': parse_bool(arg('use_sim_time'), 'use_sim_time')}]))
        if physical:  # a stand-in robot publishing /<ns>/joint_states and /<ns>/odom
            actions.append(Node(package='twin_bridge', executable='physical_sim',
                                name='physical_sim', namespace=robot.namespace,
                                output='screen', parameters=[{'speed': 0.2}]))
    twin = Node(package='twin_bridge', executable='twin_fleet', name='twin_fleet',
                output='screen',
                parameters=[LaunchConfiguration('params_file'),
                            {'fleet_file': fleet_file, 'world': world, 'shard': shard}])
    return actions + _end_launch_when_exits(twin, 'twin_fleet')


def generate_launch_description():
    """Arguments, then the fleet (read when the launch runs)."""
    share = FindPackageShare('twin_bridge')
    return LaunchDescription([
        DeclareLaunchArgument(
            'fleet_file',
            default_value=PathJoinSubstitution([share, 'config', 'fleet_example.yaml']),
            description='fleet YAML: world, shared parameters, per robot a namespace, a '
                        'description (file, xacro_args), a start pose and parameters'),
        DeclareLaunchArgument(
            'world', default_value='',
            description="world name or SDF path ('' = the fleet file's)"),
        DeclareLaunchArgument(
            'shard', default_value='',
            description="'i/n': this launch serves robots i, i+n, ... of the fleet file and "
                        "sees the others as obstacles from their virtual/odom ('' = all)"),
        DeclareLaunchArgument(
            'params_file',
            default_value=PathJoinSubstitution([share, 'config', 'twin_fleet.yaml']),
            description='parameters file of the twin_fleet node'),
        DeclareLaunchArgument(
            'use_sim_time', default_value='false',
            description='stamp the TF with /clock; there is no simulator clock here'),
        DeclareLaunchArgument(
            'physical', default_value='none', choices=['none', 'sim'],
            description="'sim' also starts a physical_sim stand-in per served robot, in its "
                        "namespace; 'none' expects the real robots"),
        OpaqueFunction(function=_fleet),
    ])
