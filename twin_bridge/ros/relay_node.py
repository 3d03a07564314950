"""The latency baseline: a bare rclpy relay (subscribe + republish, no work) for the benchmark."""

from __future__ import annotations

import argparse
import sys

from geometry_msgs.msg import TwistStamped
from nav_msgs.msg import Odometry
import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from rclpy.utilities import remove_ros_args
from sensor_msgs.msg import JointState, LaserScan

from twin_bridge.ros.qos import qos_profile
from twin_bridge.ros.shutdown import shut_down_by_signal

#: stream → (message type, sensor-data QoS?) — the same QoS choices as the twin bridge.
STREAMS = {'joint_states': (JointState, False), 'odom': (Odometry, False),
           'scan': (LaserScan, True), 'cmd_vel': (TwistStamped, False)}
#: What the relay relays unless ``streams`` says otherwise (``cmd_vel``: the gate's baseline).
DEFAULT_STREAMS = ('joint_states', 'odom', 'scan')


class RelayNode(Node):
    """Republishes ``<input_prefix><stream>`` unchanged on ``<output_prefix><stream>``.

    ``streams`` picks which of :data:`STREAMS` it relays (default
    :data:`DEFAULT_STREAMS`): the benchmark's state-only baseline relays ``joint_states`` and
    ``odom`` and computes no scan; the gate's baseline relays ``cmd_vel``.
    """

    def __init__(self) -> None:
        super().__init__('relay')
        input_prefix = self.declare_parameter('input_prefix', '').value
        output_prefix = self.declare_parameter('output_prefix', 'relay/').value
        depth = int(self.declare_parameter('qos_depth', 10).value)
        streams = list(self.declare_parameter('streams', list(DEFAULT_STREAMS)).value)
        unknown = sorted(set(streams) - set(STREAMS))
        if unknown:
            raise ValueError(f'unknown streams {unknown}; known: {list(STREAMS)}')
        reliable = qos_profile('reliable', depth)
        for stream in streams:
            msg_type, sensor = STREAMS[stream]
            qos = qos_profile_sensor_data if sensor else reliable
            publisher = self.create_publisher(msg_type, output_prefix + stream, qos)
            self.create_subscription(msg_type, input_prefix + stream, publisher.publish, qos)


def main(args: list[str] | None = None) -> int:
    """Run the relay until SIGINT/SIGTERM; return the exit code."""
    argv = sys.argv if args is None else ['relay', *args]
    argparse.ArgumentParser(
        prog='relay', description='Bare subscribe+republish relay of joint_states, odom and '
        'scan (parameters input_prefix, default "", output_prefix, default "relay/", '
        'qos_depth, default 10, streams, default all three): the baseline the twin bridge '
        'latency is compared with.'
    ).parse_args(remove_ros_args(argv)[1:])
    rclpy.init(args=argv)
    node = None
    try:
        node = RelayNode()
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except Exception:
        # A signal landing inside an rclpy call can surface as another exception type;
        # once the context is shut down (rclpy's signal handler) that is a clean stop.
        if not shut_down_by_signal():
            raise
    finally:
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == '__main__':
    sys.exit(main())
