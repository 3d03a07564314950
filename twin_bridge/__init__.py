"""twin_bridge: keep a simulated digital twin in step with a physical ROS 2 robot.

The top-level modules are the core (plain Python + numpy, no ``rclpy``); ROS nodes live in
:mod:`twin_bridge.ros`.
"""

__version__ = '0.1.0'
