"""Everything that imports ``rclpy``: the nodes (thin: parameters, topics, timers), message
conversions, QoS profiles, the Gazebo backend's ROS side, the demo's observer.

May import: every layer below (``twin``, ``stand_in``, ``gazebo``, ``embedded``,
``description``, ``core``), rclpy and message packages. Logic lives below, not here.
"""
