"""The bridge node with viewer:=true serves its twin to a real Foxglove WebSocket client."""

import signal
import socket
import time

from foxglove_client import FoxgloveClient
from nav_msgs.msg import Odometry
from ros_harness import RosTestContext
from test_bridge_node import start_bridge

from twin_bridge.ros.conversions import ns_to_time
from twin_bridge.twin.live_view import TOPICS


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_viewer_serves_world_robot_pose_and_scan_to_a_foxglove_client(tmp_path):
    port = _free_port()
    with RosTestContext('view_probe') as ros, \
            start_bridge(tmp_path, viewer=True, viewer_port=port) as proc:
        odom_pub = ros.node.create_publisher(Odometry, 'odom', 10)
        assert ros.wait_for_subscribers(odom_pub, 30.0, process=proc), proc.output()
        msg = Odometry(child_frame_id='base_link')
        msg.header.frame_id = 'odom'
        msg.pose.pose.position.x, msg.pose.pose.position.y = 0.5, -0.25
        msg.pose.pose.orientation.w = 1.0
        seen = ros.collect('virtual/odom', Odometry, 10)

        def mirrored() -> bool:
            msg.header.stamp = ns_to_time(time.time_ns())
            odom_pub.publish(msg)
            return len(seen) > 0

        assert ros.spin_until(mirrored, 20.0, proc), proc.output()
        assert f'live view for Foxglove on ws://localhost:{port}' in proc.output()
        client = FoxgloveClient(port)
        try:
            topics = [TOPICS.world, TOPICS.robot, TOPICS.virtual_pose, TOPICS.physical_pose,
                      TOPICS.virtual_scan]
            client.wait_for_channels(topics, timeout=20.0)
            client.subscribe(topics)
            got = client.receive(set(topics), timeout=20.0)
        finally:
            client.close()
        assert got[TOPICS.world].entities[0].id == 'world'
        assert len(got[TOPICS.world].entities[0].cubes) > 0
        assert got[TOPICS.virtual_pose].pose.position.x == 0.5
        assert got[TOPICS.physical_pose].pose.position.y == -0.25
        assert len(got[TOPICS.virtual_scan].ranges) > 0
        assert proc.stop(signal.SIGINT) == 0, proc.output()
