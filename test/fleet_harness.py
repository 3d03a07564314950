"""Helpers of the fleet twin's DDS tests: a fleet file, per-robot publishers and collectors,
and the analytic ranges of robots that see each other in an empty world."""

from __future__ import annotations

import time

from nav_msgs.msg import Odometry
import numpy as np
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import JointState, LaserScan
import yaml

from twin_bridge.core.transforms import Pose, quat_from_rpy, yaw_from_quat
from twin_bridge.description.robot_description import default_robot_path, load_robot_description

NODE = 'twin_bridge.ros.fleet_node'
SAMPLES = 360
XACRO_ARGS = {'lidar_samples': str(SAMPLES), 'lidar_min_angle': str(-np.pi),
              'lidar_max_angle': str(np.pi - 2 * np.pi / SAMPLES)}
DISCOVERY_TIMEOUT = 45.0
REPLY_TIMEOUT = 15.0
ROBOT = load_robot_description(default_robot_path(), XACRO_ARGS)
#: Radius of the default robot's lidar cylinder: the only robot geometry in the scan plane.
LIDAR_RADIUS = 0.035


def write_fleet(path, poses):
    """A fleet file of the package robot (360 beams, no noise) in the empty world."""
    robots = [{'namespace': ns, 'description': {'xacro_args': XACRO_ARGS},
               'pose': {'x': x, 'y': y, 'yaw': yaw}} for ns, (x, y, yaw) in poses.items()]
    path.write_text(yaml.safe_dump({'world': 'empty', 'robots': robots,
                                    'parameters': {'lidar_noise': False}}))
    return path


def world_pose(start, odom):
    """The base's world pose for a start pose and an odometry pose, both (x, y, yaw)."""
    return Pose(np.array([start[0], start[1], 0.0]), quat_from_rpy(0, 0, start[2])).compose(
        Pose(np.array([odom[0], odom[1], 0.0]), quat_from_rpy(0, 0, odom[2])))


def expected_ranges(bases, ns):
    """REP-117 ranges of robot ``ns``'s lidar when the robots' bases are at ``bases``
    (name -> world Pose): the others' lidar cylinders, nothing else (empty world)."""
    lidars = {k: b.compose(ROBOT.link_pose(ROBOT.lidar.link)).compose(ROBOT.lidar.pose)
              for k, b in bases.items()}
    origin = lidars[ns].position[:2]
    angles = ROBOT.lidar.beam_angles() + yaw_from_quat(lidars[ns].orientation)
    dx, dy = np.cos(angles), np.sin(angles)
    best = np.full(SAMPLES, np.inf)
    for other, pose in lidars.items():
        if other == ns:
            continue
        fx, fy = origin[0] - pose.position[0], origin[1] - pose.position[1]
        b = fx * dx + fy * dy
        disc = b * b - (fx * fx + fy * fy - LIDAR_RADIUS ** 2)
        t = -b - np.sqrt(np.maximum(disc, 0.0))
        best = np.where((disc >= 0) & (t > 0) & (t < best), t, best)
    best[best > ROBOT.lidar.range_max] = np.inf
    return best


def stamp(msg, ns=None):
    ns = time.time_ns() if ns is None else ns
    msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(ns, 1_000_000_000)
    return ns


class FleetRobots:
    """Physical-side publishers and twin-side collectors of each robot namespace."""

    def __init__(self, ros, namespaces, scans=True):
        node = ros.node
        self.ros = ros
        self.odom_pub = {ns: node.create_publisher(Odometry, f'/{ns}/odom', 10)
                         for ns in namespaces}
        self.joints_pub = {ns: node.create_publisher(JointState, f'/{ns}/joint_states', 10)
                           for ns in namespaces}
        self.odom = {ns: ros.collect(f'/{ns}/virtual/odom', Odometry) for ns in namespaces}
        self.joints = {ns: ros.collect(f'/{ns}/virtual/joint_states', JointState)
                       for ns in namespaces}
        self.scans = ({ns: ros.collect(f'/{ns}/virtual/scan', LaserScan, qos_profile_sensor_data)
                       for ns in namespaces} if scans else {})

    def wait_ready(self, procs):
        for ns, pub in (*self.odom_pub.items(), *self.joints_pub.items()):
            assert self.ros.spin_until(lambda p=pub: p.get_subscription_count() >= 1,
                                       DISCOVERY_TIMEOUT), (
                f'/{ns}: nobody subscribed:\n' + '\n'.join(p.output()[-2000:] for p in procs))
        assert self.ros.spin_until(lambda: all(len(c) for c in self.scans.values()),
                                   DISCOVERY_TIMEOUT), (
            'no scans:\n' + '\n'.join(p.output()[-2000:] for p in procs))

    def send_odom(self, ns, x, y, yaw, stamp_ns=None):
        msg = Odometry()
        msg.header.frame_id, msg.child_frame_id = 'odom', 'base_link'
        msg.pose.pose.position.x, msg.pose.pose.position.y = float(x), float(y)
        q = quat_from_rpy(0, 0, yaw)
        o = msg.pose.pose.orientation
        o.x, o.y, o.z, o.w = map(float, q)
        ns_stamp = stamp(msg, stamp_ns)
        self.odom_pub[ns].publish(msg)
        return ns_stamp

    def send_joints(self, ns, names, positions):
        msg = JointState(name=list(names), position=[float(p) for p in positions])
        ns_stamp = stamp(msg)
        self.joints_pub[ns].publish(msg)
        return ns_stamp

    def wait_for(self, collector, predicate, what, procs=(), keep_sending=None):
        last = [0.0]

        def found():
            if keep_sending is not None and time.monotonic() - last[0] > 0.1:
                keep_sending()
                last[0] = time.monotonic()
            return any(predicate(m) for m in collector.messages)
        assert self.ros.spin_until(found, REPLY_TIMEOUT), (
            f'timed out waiting for {what}:\n' + '\n'.join(p.output()[-3000:] for p in procs))
        return next(m for m in reversed(collector.messages) if predicate(m))
