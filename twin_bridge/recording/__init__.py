"""Recording and replay without ROS: MCAP bags with the ROS 2 profile, and the twin over a bag.

``qos_profiles`` (the ``offered_qos_profiles`` strings rosbag2 reads), ``message_types``
(``ros2msg`` schemas and type hashes), ``bag_metadata`` (rosbag2's ``metadata.yaml``),
``bag_writer`` (split MCAP files in one bag folder), ``recorder`` (a bounded queue and a
writer thread that counts what it drops), ``bag_reader`` (MCAP and sqlite3 bags),
``samples`` (bag messages <-> the core's samples), ``replay`` (the same :class:`DigitalTwin`
as live, over a bag), ``replay_report`` (JSON + PNG) and ``replay_cli`` (``twin_replay``).
The ROS side of recording (rclpy subscriptions) is ``twin_bridge.ros.recorder_node``.
"""
