"""twin_bridge: keep a simulated digital twin in step with a physical ROS 2 robot.

Subpackages are layers; each imports only from the layers listed before it
(``test/test_layering.py`` enforces this, function-level imports included):

=================  =====================================================================
``errors``         the package's exceptions (imported by every layer)
``core``           plain data and math: samples, lidar, transforms, the backend interface
``description``    loading worlds (SDFormat) and robots (URDF/xacro), resources, meshes
``embedded``       the embedded MuJoCo simulator backend
``gazebo``         Gazebo pieces without ROS: topic names, bridge config, launch planning
``twin``           the twin's logic: validation, the session, monitors, statistics, config
``stand_in``       the stand-in physical robot's logic: motion profiles, pacing
``recording``      MCAP/rosbag2 bags without ROS: writer, bounded recorder, reader, replay
``scenarios``      safety scenarios: YAML files run in the embedded twin through the gate
``learning``       Gymnasium environments, domain randomization, synthetic data, policies
``fleet``          many robots in one twin: fleet files, shards, per-robot sessions
``mqtt``           robots that speak MQTT: the JSON schema and the broker client (no ROS)
``ros``            everything that imports ``rclpy``: nodes, conversions, Gazebo backend
``demo``           the demo application (starts ROS nodes, observes them, reports)
=================  =====================================================================

Everything below ``ros`` is plain Python + numpy (MuJoCo in ``embedded``) with no ``rclpy``.
"""

__version__ = '0.1.0'
