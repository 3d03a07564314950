"""The benchmark's baseline relay: messages come out unchanged (same stamp) on relay/*."""

import signal

from builtin_interfaces.msg import Time
from nav_msgs.msg import Odometry
from ros_harness import RosTestContext, spawn_node
from sensor_msgs.msg import JointState


def test_relay_republishes_unchanged_and_exits_0():
    with RosTestContext('relay_probe') as ros, spawn_node('twin_bridge.ros.relay_node') as proc:
        joints = ros.collect('relay/joint_states', JointState, 10)
        odom = ros.collect('relay/odom', Odometry, 10)
        joint_pub = ros.node.create_publisher(JointState, 'joint_states', 10)
        odom_pub = ros.node.create_publisher(Odometry, 'odom', 10)
        assert ros.wait_for_subscribers(joint_pub, 20.0, process=proc), proc.output()
        assert ros.wait_for_subscribers(odom_pub, 20.0, process=proc), proc.output()
        sent = JointState(name=['pan_joint'], position=[0.25])
        sent.header.stamp = Time(sec=12, nanosec=345)
        ping = Odometry(child_frame_id='base_link')
        ping.header.stamp = Time(sec=7, nanosec=8)
        assert ros.spin_until(lambda: (joint_pub.publish(sent), odom_pub.publish(ping),
                                       len(joints) and len(odom))[-1], 20.0, proc)
        got = joints.last
        assert list(got.name) == ['pan_joint'] and list(got.position) == [0.25]
        assert (got.header.stamp.sec, got.header.stamp.nanosec) == (12, 345)
        assert odom.last.child_frame_id == 'base_link'
        assert proc.stop(signal.SIGINT) == 0, proc.output()
