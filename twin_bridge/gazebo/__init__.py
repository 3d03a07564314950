"""Gazebo pieces that need no ROS: topic names, ros_gz bridge config, request coalescing,
launch planning. The ROS side of the Gazebo backend is :mod:`twin_bridge.ros.gazebo_backend`.

May import: :mod:`twin_bridge.description`, :mod:`twin_bridge.core`, numpy, yaml.
"""
