"""Digital twin in Gazebo Harmonic: gz sim + robot_state_publisher + spawn + bridge + twin node.

    ros2 launch twin_bridge gazebo_twin.launch.py world:=obstacle_course headless:=true

The twin node mirrors the physical robot's /joint_states and /odom into the Gazebo model and
publishes what it senses as /virtual/scan, /virtual/odom and /virtual/joint_states.
What needs computing (world lookup, bridge config, spawn arguments) is done by
twin_bridge.gazebo.launch_support, which is unit-tested without ROS. Gazebo or the twin node
exiting (window closed, a crash, FATAL at start-up) ends the launch with its message; without
gz installed the launch ends at once, naming what to install.
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

from twin_bridge.gazebo.launch_support import (
    OutputTail,
    gazebo_environment,
    plan_gazebo_twin,
    require_executable,
)


def _end_launch_when_exits(process, name):
    """``process`` and the handlers that end the launch when it exits (Gazebo window closed or
    crashed, the twin FATAL at start-up), its last output lines as the reason - but not again
    while launch is already shutting down (a second Shutdown makes launch fail on exit)."""
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


def _gazebo_and_bridges(context):
    """Gazebo, the spawn, the bridges and the twin node: these need the resolved world name
    and the bridge config generated for the robot actually spawned."""
    def arg(name):
        return LaunchConfiguration(name).perform(context)

    namespace = arg('namespace')
    plan = plan_gazebo_twin(
        world=arg('world'), robot_description_file=arg('robot_description_file'),
        xacro_args=arg('xacro_args'), headless=arg('headless'), gui=arg('gui'),
        namespace=namespace, model_name=arg('model_name'), bridge_config=arg('bridge_config'),
        use_sim_time=arg('use_sim_time'), x=arg('x'), y=arg('y'), z=arg('z'), yaw=arg('yaw'),
        lidar_sensor=arg('lidar_sensor'))
    environment = getattr(context, 'environment', os.environ)
    # launch only logs a program it cannot start (no exit event would end the launch): a
    # missing gz raises here instead, which ends the launch with this error.
    require_executable(plan.gz_command[0], environment,
                       'install Gazebo Harmonic (apt install ros-jazzy-ros-gz)')
    # model:// includes of the worlds resolve from share/twin_bridge/models, package://
    # meshes from the share folders; plus what packages export for Gazebo (package.xml).
    share = FindPackageShare('twin_bridge').perform(context)
    resource_paths = [os.path.join(share, 'models'), os.path.dirname(share),
                      *plan.gz_resource_paths]

    # Gazebo itself, run directly (no shell, unlike ros_gz_sim's gz_sim.launch.py) so
    # launch's SIGINT reaches it and nothing is left running after shutdown; its exit (window
    # closed, crash, a world it cannot load) ends the launch.
    gazebo = ExecuteProcess(cmd=plan.gz_command, name='gazebo', output='screen',
                            additional_env=gazebo_environment(environment, resource_paths))
    # The twin node: the gazebo backend on the bridged topics, parameters from the params
    # file with what this launch decided (world, robot, world name) on top; its exit (e.g.
    # FATAL at start-up) ends the launch.
    twin = Node(package='twin_bridge', executable='twin_bridge', name='twin_bridge',
                namespace=namespace, output='screen',
                parameters=[LaunchConfiguration('params_file'), plan.twin_parameters])
    actions = [
        *_end_launch_when_exits(gazebo, 'Gazebo'),
        # Spawn the robot from robot_state_publisher's robot_description topic (same
        # namespace, so the relative topic resolves to that publisher).
        Node(package='ros_gz_sim', executable='create', name='spawn_twin_robot',
             namespace=namespace, arguments=plan.create_arguments, output='screen'),
        # Sensors GZ->ROS and joint commands ROS->GZ (config_file), plus the set_pose service
        # (arguments). Wall-time stamps make receive-minus-stamp latencies meaningful.
        Node(package='ros_gz_bridge', executable='parameter_bridge', name='twin_gz_bridge',
             namespace=namespace, arguments=plan.bridge.arguments, output='screen',
             parameters=[{'config_file': str(plan.bridge.config_file),
                          'override_timestamps_with_wall_time': True}]),
        *_end_launch_when_exits(twin, 'twin_bridge'),
    ]
    if plan.bridge.clock_arguments:
        # /clock alone in a light bridge process so heavy scans never delay it; skipped when
        # a user bridge_config already bridges /clock (bridged exactly once either way).
        actions.append(Node(package='ros_gz_bridge', executable='parameter_bridge',
                            name='twin_clock_bridge', arguments=plan.bridge.clock_arguments,
                            output='screen'))
    return actions


def generate_launch_description():
    """Arguments, the twin description (robot_state_publisher) and the Gazebo part."""
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
            'headless', default_value='false',
            description='run the Gazebo server only, with --headless-rendering (CI, no display)'),
        DeclareLaunchArgument(
            'gui', default_value='true',
            description='start the Gazebo GUI (ignored when headless:=true)'),
        DeclareLaunchArgument(
            'use_sim_time', default_value='false',
            description='twin node and robot_state_publisher on Gazebo /clock; keep false to '
                        'measure latency against the physical robot\'s wall-clock stamps'),
        DeclareLaunchArgument(
            'namespace', default_value='',
            description='ROS namespace of the twin (robot_state_publisher, bridge, node)'),
        DeclareLaunchArgument(
            'model_name', default_value='twin_robot',
            description='name of the spawned Gazebo model (the set_pose target)'),
        DeclareLaunchArgument(
            'bridge_config', default_value='',
            description="ros_gz_bridge YAML; '' = generated from the robot (see "
                        'config/gz_bridge.yaml for the default robot)'),
        DeclareLaunchArgument(
            'params_file',
            default_value=PathJoinSubstitution([share, 'config', 'twin_bridge.yaml']),
            description='parameters file of the twin_bridge node'),
        DeclareLaunchArgument('x', default_value='0.0', description='spawn x (m)'),
        DeclareLaunchArgument('y', default_value='0.0', description='spawn y (m)'),
        DeclareLaunchArgument('z', default_value='0.0', description='spawn z (m)'),
        DeclareLaunchArgument('yaw', default_value='0.0', description='spawn heading (rad)'),

        # -- robot_state_publisher (shared with embedded_twin.launch.py) -------------------
        # Publishes robot_description, which the spawn reads, and the twin's TF on virtual/tf.
        IncludeLaunchDescription(
            PythonLaunchDescriptionSource(
                PathJoinSubstitution([share, 'launch', 'twin_description.launch.py'])),
            launch_arguments={
                'robot_description_file': LaunchConfiguration('robot_description_file'),
                'xacro_args': LaunchConfiguration('xacro_args'),
                'use_sim_time': LaunchConfiguration('use_sim_time'),
                'namespace': LaunchConfiguration('namespace'),
            }.items()),

        # -- Gazebo, spawn, bridges, twin node ----------------------------------------------
        OpaqueFunction(function=_gazebo_and_bridges),
    ])
