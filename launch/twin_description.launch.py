"""The twin's robot_state_publisher: robot_description and its TF, apart from the robot's.

    ros2 launch twin_bridge twin_description.launch.py xacro_args:="prefix:=r1_"

Included by gazebo_twin.launch.py and embedded_twin.launch.py (their arguments passed through).
The robot file may be xacro/URDF (expanded with xacro_args) or an SDF model.sdf (converted to
the URDF of the same links and joints, see twin_bridge.gazebo.robot_source).
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare

from twin_bridge.gazebo.robot_source import robot_description_xml


def _robot_state_publisher(context):
    """robot_state_publisher with the robot's URDF (an error names the bad file or argument
    before anything starts)."""
    def arg(name):
        return LaunchConfiguration(name).perform(context)

    urdf = robot_description_xml(arg('robot_description_file'), arg('xacro_args'))
    # Publishes robot_description (which a Gazebo spawn reads) and the twin's TF from the
    # twin's own joint states, on virtual/tf so it never fights the physical robot's TF
    # (same frame names): tf2 broadcasts on the absolute /tf and /tf_static, so only a
    # remapping of those absolute names moves them. value_type=str: the URDF must not be
    # parsed as YAML.
    return [Node(package='robot_state_publisher', executable='robot_state_publisher',
                 namespace=LaunchConfiguration('namespace'), output='screen',
                 remappings=[('joint_states', 'virtual/joint_states'), ('/tf', 'virtual/tf'),
                             ('/tf_static', 'virtual/tf_static')],
                 parameters=[{
                     'robot_description': ParameterValue(urdf, value_type=str),
                     'use_sim_time': LaunchConfiguration('use_sim_time'),
                 }])]


def generate_launch_description():
    """Arguments and robot_state_publisher."""
    return LaunchDescription([
        DeclareLaunchArgument(
            'robot_description_file',
            default_value=PathJoinSubstitution([FindPackageShare('twin_bridge'), 'urdf',
                                                'twin_robot.urdf.xacro']),
            description='robot xacro or URDF file, or an SDF model.sdf'),
        DeclareLaunchArgument(
            'xacro_args', default_value='',
            description="xacro arguments as 'name:=value name2:=value2' (e.g. prefix:=r1_)"),
        DeclareLaunchArgument(
            'use_sim_time', default_value='false',
            description='stamp TF with the simulator /clock'),
        DeclareLaunchArgument(
            'namespace', default_value='', description='ROS namespace of the twin'),
        OpaqueFunction(function=_robot_state_publisher),
    ])
