"""The twin's logic without ROS: input validation, :class:`TwinSession`, stream monitors,
latency statistics, and the bridge node's parameters.

May import: :mod:`twin_bridge.embedded`, :mod:`twin_bridge.gazebo`,
:mod:`twin_bridge.description`, :mod:`twin_bridge.core`, numpy. No ``rclpy``.
"""
