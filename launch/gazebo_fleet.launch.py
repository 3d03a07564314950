"""A fleet's twins in Gazebo Harmonic: one world, per robot a spawn, a bridge and a twin node.

    ros2 launch twin_bridge gazebo_fleet.launch.py fleet_file:=my_fleet.yaml headless:=true

Each robot of the fleet file is spawned as model <namespace> at its start pose, with its
robot_state_publisher, ros_gz bridge and twin_bridge node (gazebo backend) in its namespace
and its Gazebo topics under /<namespace>/twin, so robots see each other in Gazebo's own
lidar. Gazebo's twin places a robot where its odometry says, in Gazebo's world frame: give the
robots' odometry in one shared frame (the start pose is the spawn pose only). What needs
computing is twin_bridge.fleet.gazebo_fleet_plan (unit-tested without ROS). Gazebo or any twin
node exiting ends the launch with its message.
"""

import os

from launch import LaunchDescription
from launch.actions import (
    DeclareLaunchArgument,
    ExecuteProcess,
    IncludeLaunchDescription,
    LogInfo,
    OpaqueFunction,
    RegisterEventHandler,
    Shutdown,
)
from launch.event_handlers import OnProcessExit, OnProcessIO
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

from twin_bridge.fleet.gazebo_fleet_plan import plan_gazebo_fleet
from twin_bridge.gazebo.launch_support import OutputTail, gazebo_environment, require_executable


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


def _fleet_in_gazebo(context):
    """Gazebo once, then per robot its description, spawn, bridge and twin node."""
    def arg(name):
        return LaunchConfiguration(name).perform(context)

    plan = plan_gazebo_fleet(arg('fleet_file'), world=arg('world'), headless=arg('headless'),
                             gui=arg('gui'), use_sim_time=arg('use_sim_time'))
    environment = getattr(context, 'environment', os.environ)
    require_executable(plan.gz_command[0], environment,
                       'install Gazebo Harmonic (apt install ros-jazzy-ros-gz)')
    share = FindPackageShare('twin_bridge').perform(context)
    resource_paths = [os.path.join(share, 'models'), os.path.dirname(share),
                      *plan.gz_resource_paths]
    # Gazebo itself, run directly (no shell) so launch's SIGINT reaches it; its exit ends
    # the launch.
    gazebo = ExecuteProcess(cmd=plan.gz_command, name='gazebo', output='screen',
                            additional_env=gazebo_environment(environment, resource_paths))
    actions = [*_end_launch_when_exits(gazebo, 'Gazebo')]
    if plan.clock_arguments:  # /clock once for every robot, in a light bridge of its own
        actions.append(Node(package='ros_gz_bridge', executable='parameter_bridge',
                            name='twin_clock_bridge', arguments=plan.clock_arguments,
                            output='screen'))
    for robot in plan.robots:
        ns = robot.namespace
        # robot_description (the spawn reads it) and the twin's TF on /<ns>/virtual/tf.
        actions.append(IncludeLaunchDescription(
            PythonLaunchDescriptionSource(os.path.join(share, 'launch',
                                                       'twin_description.launch.py')),
            launch_arguments={
                'robot_description_file': robot.plan.twin_parameters['robot_description_file'],
                'xacro_args': robot.xacro_args,
                'use_sim_time': arg('use_sim_time'),
                'namespace': ns,
            }.items()))
        actions.append(Node(package='ros_gz_sim', executable='create',
                            name=f'spawn_{robot.model_name}', namespace=ns,
                            arguments=robot.plan.create_arguments, output='screen'))
        # Sensors GZ->ROS, joint commands ROS->GZ and set_pose for this robot; wall-time
        # stamps make receive-minus-stamp latencies meaningful.
        actions.append(Node(package='ros_gz_bridge', executable='parameter_bridge',
                            name='twin_gz_bridge', namespace=ns,
                            arguments=robot.plan.bridge.arguments, output='screen',
                            parameters=[{'config_file': str(robot.plan.bridge.config_file),
                                         'override_timestamps_with_wall_time': True}]))
        twin = Node(package='twin_bridge', executable='twin_bridge', name='twin_bridge',
                    namespace=ns, output='screen',
                    parameters=[LaunchConfiguration('params_file'),
                                robot.plan.twin_parameters])
        actions += _end_launch_when_exits(twin, f'twin_bridge {ns}')
    return actions


def generate_launch_description():
    """Arguments, then the fleet in Gazebo (read when the launch runs)."""
    share = FindPackageShare('twin_bridge')
    return LaunchDescription([
        DeclareLaunchArgument(
            'fleet_file',
            default_value=PathJoinSubstitution([share, 'config', 'fleet_example.yaml']),
            description='fleet YAML: world, per robot a namespace, a description (file, '
                        'xacro_args), a start pose (the spawn pose) and parameters'),
        DeclareLaunchArgument(
            'world', default_value='',
            description="world name or SDF path ('' = the fleet file's)"),
        DeclareLaunchArgument(
            'headless', default_value='false',
            description='run the Gazebo server only, with --headless-rendering (CI, no display)'),
        DeclareLaunchArgument(
            'gui', default_value='true',
            description='start the Gazebo GUI (ignored when headless:=true)'),
        DeclareLaunchArgument(
            'use_sim_time', default_value='false',
            description='twin nodes on Gazebo /clock; keep false to measure latency against '
                        'the physical robots\' wall-clock stamps'),
        DeclareLaunchArgument(
            'params_file',
            default_value=PathJoinSubstitution([share, 'config', 'twin_bridge.yaml']),
            description='parameters file of every twin_bridge node'),
        OpaqueFunction(function=_fleet_in_gazebo),
    ])
