"""The stand-in physical robot's logic without ROS: motion profiles and pacing.

May import: :mod:`twin_bridge.twin` and the layers below it. No ``rclpy``.
"""
