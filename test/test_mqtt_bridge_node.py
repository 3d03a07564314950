"""twin_mqtt end to end over a real broker and real DDS: an MQTT robot's JSON state reaches a
namespaced twin_bridge node, whose virtual odometry comes back on ROS and as JSON on MQTT."""

import subprocess
import sys
import time

from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import Twist
from mqtt_fixtures import USER, running_broker, settings_for
from nav_msgs.msg import Odometry
import numpy as np
import paho.mqtt.client as mqtt
import pytest
from rclpy.qos import qos_profile_sensor_data
from ros_harness import RosTestContext, spawn_node
from sensor_msgs.msg import JointState, LaserScan

from twin_bridge.core.lidar import ScanData
from twin_bridge.core.state import JointStateSample, OdometrySample
from twin_bridge.core.transforms import quat_from_rpy
from twin_bridge.mqtt.physical_robot_interface import PhysicalRobotInterface

NAMESPACE = '/fleet_r1'
JOINTS = ('left_wheel_joint', 'right_wheel_joint', 'pan_joint', 'tilt_joint')
STARTUP_TIMEOUT = 60.0
REPLY_TIMEOUT = 15.0


@pytest.fixture
def broker(tmp_path):
    yield from running_broker(tmp_path)


def _bridge_params(server, **extra):
    return {'broker_port': server.files.port, 'username': USER,
            'password_file': str(server.files.password_file), 'robots': ['r1'],
            'namespaces': [f'r1:={NAMESPACE}'], 'diagnostics_period': 0.2,
            'reconnect_max_delay': 0.5, **extra}


def _state(k: int) -> tuple[JointStateSample, OdometrySample]:
    x, yaw = 0.01 * k, 0.02 * k
    joints = JointStateSample(JOINTS, np.array([0.1 * k, -0.1 * k, 0.3, -0.2]),
                              np.array([1.0, -1.0, 0.0, 0.0]))
    odom = OdometrySample(np.array([x, 0.5, 0.0]), quat_from_rpy(0.0, 0.0, yaw),
                          np.array([0.3, 0.0, 0.0]), np.array([0.0, 0.0, 0.2]))
    return joints, odom


def _mqtt_status(collector, name):
    """The newest twin_mqtt diagnostic status called ``name`` as a dict of its values."""
    for msg in reversed(collector.messages):
        for status in msg.status:
            if status.name == f'twin_mqtt: {name}':
                return {kv.key: kv.value for kv in status.values} | {'_level': status.level}
    return None


def test_mqtt_state_reaches_the_twin_and_its_virtual_odom_comes_back_on_ros_and_mqtt(broker):
    twin_params = {'world': 'empty', 'drift_check': False, 'prediction_rate': 0.0,
                   'ensemble_rate': 0.0, 'gate': False}
    with (RosTestContext('mqtt_e2e') as ros,
          spawn_node('twin_bridge.ros.mqtt_bridge_node', params=_bridge_params(broker)) as node,
          spawn_node('twin_bridge.ros.bridge_node', params=twin_params,
                     ros_args=['-r', f'__ns:={NAMESPACE}']) as twin,
          PhysicalRobotInterface('r1', settings_for(broker)) as robot):
        virtual_odom = ros.collect(f'{NAMESPACE}/virtual/odom', Odometry)
        virtual_joints = ros.collect(f'{NAMESPACE}/virtual/joint_states', JointState)
        diagnostics = ros.collect('/diagnostics', DiagnosticArray)
        assert robot.connect(REPLY_TIMEOUT)
        sent: dict[int, OdometrySample] = {}

        def flowing() -> bool:
            k = len(sent)
            joints, odom = _state(k)
            stamp = time.time_ns()
            sent[stamp] = odom
            robot.publish_state(joints, odom, stamp)
            ros.spin_for(0.02)
            return len(virtual_odom) >= 5 and robot.received['odom'] >= 5

        assert ros.spin_until(flowing, STARTUP_TIMEOUT, process=twin), (
            f'nothing came back; twin_mqtt:\n{node.tail()}\ntwin_bridge:\n{twin.tail()}')
        # over ROS: the twin mirrored exactly the pose the MQTT robot sent, with its stamp
        last = virtual_odom.last
        stamp = last.header.stamp.sec * 1_000_000_000 + last.header.stamp.nanosec
        assert stamp in sent
        pose = last.pose.pose
        np.testing.assert_allclose([pose.position.x, pose.position.y], sent[stamp].position[:2],
                                   atol=1e-9)
        assert ros.spin_until(lambda: len(virtual_joints) > 0, REPLY_TIMEOUT)
        assert tuple(virtual_joints.last.name) == JOINTS
        # over MQTT: the same virtual odometry, as JSON, decoded by the robot's interface
        assert ros.spin_until(lambda: robot.virtual('odom').stamp_ns in sent, REPLY_TIMEOUT)
        back = robot.virtual('odom')
        np.testing.assert_allclose(back.position, sent[back.stamp_ns].position, atol=1e-9)
        assert robot.virtual('joint_states').names == JOINTS
        # the robot's optional scan reaches ROS; the twin's scan comes back over MQTT
        physical_scan = ros.collect(f'{NAMESPACE}/scan', LaserScan, qos_profile_sensor_data)
        scan = ScanData('lidar_link', -0.5, 0.5, 0.5, 0.0, 0.1, 0.1, 8.0,
                        np.array([1.5, np.inf, 2.25], dtype=np.float32))
        assert ros.spin_until(lambda: robot.publish_scan(scan) and len(physical_scan) > 0,
                              REPLY_TIMEOUT)
        assert list(physical_scan.last.ranges) == [1.5, float('inf'), 2.25]
        assert physical_scan.last.header.frame_id == 'lidar_link'
        assert ros.spin_until(lambda: robot.virtual('scan') is not None, REPLY_TIMEOUT)
        assert len(robot.virtual('scan').ranges) > 100  # the twin's own lidar

        # a malformed message is counted on /diagnostics and changes nothing else
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id='raw')
        client.username_pw_set(USER, broker.files.password)
        client.connect('127.0.0.1', broker.files.port)
        client.loop_start()
        try:
            client.publish('twin/r1/state', b'{"schema": 1, oops', qos=1).wait_for_publish(5)
            client.publish('twin/r1/state', b'{"schema": 2}', qos=1).wait_for_publish(5)
        finally:
            client.loop_stop()
            client.disconnect()

        def counted() -> bool:
            status = _mqtt_status(diagnostics, 'mqtt r1: state')
            return bool(status) and status.get('rejected.malformed_json') == '1' and status.get(
                'rejected.schema_version') == '1'

        assert ros.spin_until(counted, REPLY_TIMEOUT), _mqtt_status(diagnostics, 'mqtt r1: state')
        assert _mqtt_status(diagnostics, 'mqtt broker')['connected'] == 'true'
        assert node.stop() == 0, node.tail()
        assert 'rejected=2' in node.output()
        assert twin.stop() == 0, twin.tail()


def test_mqtt_robots_appear_in_the_fleet_twin_like_any_other(broker):
    """Two MQTT robots served by one twin_fleet: each gets its own twin's odometry back, and
    one robot's garbage does not disturb the other."""
    robots = ('m1', 'm2')
    params = _bridge_params(broker, robots=list(robots), namespaces=[''])
    fleet = {'robots': ['m1:0,0', 'm2:2,0'], 'world': 'empty', 'diagnostics_period': 0.5}
    with (RosTestContext('mqtt_fleet') as ros,
          spawn_node('twin_bridge.ros.mqtt_bridge_node', params=params) as node,
          spawn_node('twin_bridge.ros.fleet_node', params=fleet) as twin,
          PhysicalRobotInterface('m1', settings_for(broker)) as m1,
          PhysicalRobotInterface('m2', settings_for(broker)) as m2):
        ros_odom = {r: ros.collect(f'/{r}/virtual/odom', Odometry) for r in robots}
        interfaces = {'m1': m1, 'm2': m2}
        assert m1.connect(REPLY_TIMEOUT) and m2.connect(REPLY_TIMEOUT)
        sent = {r: {} for r in robots}

        def both_back() -> bool:
            for k, (robot, link) in enumerate(interfaces.items()):
                odom = OdometrySample(np.array([0.1 + k, 0.2 * k, 0.0]),
                                      np.array([0.0, 0.0, 0.0, 1.0]))
                stamp = time.time_ns()
                sent[robot][stamp] = odom
                link.publish_state(odometry=odom, stamp_ns=stamp)
            ros.spin_for(0.02)
            return all(len(ros_odom[r]) >= 3 and interfaces[r].received['odom'] >= 3
                       for r in robots)

        assert ros.spin_until(both_back, STARTUP_TIMEOUT, process=twin), (
            f'twin_mqtt:\n{node.tail()}\ntwin_fleet:\n{twin.tail()}')
        for robot, link in interfaces.items():
            back = link.virtual('odom')
            assert back.stamp_ns in sent[robot]  # its own twin, not the other robot's
            np.testing.assert_allclose(back.position, sent[robot][back.stamp_ns].position)
            assert back.frame_id == f'{robot}/odom'  # the fleet prefixes frames
        count = m1.received['odom']
        m2.connection.publish('twin/m2/state', b'{"schema": 1, "stamp": 5}')  # garbage
        m2.connection.publish('twin/m2/state', b'not json at all')

        def m1_goes_on() -> bool:
            stamp = time.time_ns()
            sent['m1'][stamp] = OdometrySample(np.array([0.3, 0.0, 0.0]),
                                               np.array([0.0, 0.0, 0.0, 1.0]))
            m1.publish_state(odometry=sent['m1'][stamp], stamp_ns=stamp)
            ros.spin_for(0.02)
            return m1.received['odom'] >= count + 5

        assert ros.spin_until(m1_goes_on, REPLY_TIMEOUT)
        assert node.stop() == 0 and twin.stop() == 0
        assert 'mqtt m2: state: received' in node.output()
        m2_line = next(line for line in node.output().splitlines() if 'mqtt m2: state:' in line)
        assert 'bad_type=1' in m2_line and 'malformed_json=1' in m2_line, m2_line


def test_bad_parameters_and_a_refused_login_are_reported(broker):
    with spawn_node('twin_bridge.ros.mqtt_bridge_node',
                    params=_bridge_params(broker, namespaces=['r2:=/x'])) as bad:
        assert bad.wait(30.0) == 2
        assert "namespaces: ['r2'] not among robots ['r1']" in bad.output()
    params = _bridge_params(broker, password_file='', password='wrong')
    with RosTestContext('mqtt_refused') as ros, spawn_node(
            'twin_bridge.ros.mqtt_bridge_node', params=params) as node:
        diagnostics = ros.collect('/diagnostics', DiagnosticArray)

        def refused() -> bool:
            status = _mqtt_status(diagnostics, 'mqtt broker')
            return bool(status) and int(status['refusals']) >= 1

        assert ros.spin_until(refused, STARTUP_TIMEOUT, process=node), node.tail()
        status = _mqtt_status(diagnostics, 'mqtt broker')
        assert status['connected'] == 'false' and status['_level'] == b'\x02'
        assert node.stop() == 0
        assert 'Not authorized' in node.output()


def test_help_lists_every_parameter():
    from twin_bridge.mqtt.bridge_config import PARAMETERS
    out = subprocess.run([sys.executable, '-m', 'twin_bridge.ros.mqtt_bridge_node', '--help'],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    for name in PARAMETERS:
        assert name in out


def _publish_until(ros, publisher, msg, done, timeout):
    def step():
        publisher.publish(msg)
        ros.spin_for(0.05)
        return done()
    return ros.spin_until(step, timeout)


@pytest.mark.parametrize('forward', [False, True])
def test_commands_reach_the_robot_only_when_forwarding_is_enabled(broker, forward):
    params = _bridge_params(broker, forward_commands=forward)
    topic = f'{NAMESPACE}/virtual/cmd_vel_safe'
    with (RosTestContext('mqtt_commands') as ros,
          spawn_node('twin_bridge.ros.mqtt_bridge_node', params=params) as node,
          PhysicalRobotInterface('r1', settings_for(broker)) as robot):
        assert robot.connect(REPLY_TIMEOUT)
        publisher = ros.node.create_publisher(Twist, topic, 10)
        command = Twist()
        command.linear.x, command.angular.z = 0.25, -0.5
        # the node's state outputs exist either way: wait for it to be up
        assert ros.wait_for_publishers(f'{NAMESPACE}/odom', STARTUP_TIMEOUT, process=node)
        if not forward:
            ros.spin_for(1.0)
            assert publisher.get_subscription_count() == 0  # nobody even listens
            publisher.publish(command)
            ros.spin_for(0.5)
            assert robot.virtual('cmd_vel_safe') is None
            assert 'no commands' in node.output()
        else:
            assert _publish_until(ros, publisher, command,
                                  lambda: robot.virtual('cmd_vel_safe') is not None,
                                  REPLY_TIMEOUT), node.tail()
            got = robot.virtual('cmd_vel_safe')
            assert got.linear.tolist() == [0.25, 0.0, 0.0]
            assert got.angular.tolist() == [0.0, 0.0, -0.5]
            assert abs(time.time_ns() - got.stamp_ns) < 5e9
            assert 'forward_commands is TRUE' in node.output()
            # never retained: a robot connecting now finds no old command waiting
            with PhysicalRobotInterface('r1', settings_for(broker), client_id='late') as late:
                assert late.connect(REPLY_TIMEOUT)
                ros.spin_for(0.5)
                assert late.virtual('cmd_vel_safe') is None
        assert node.stop() == 0
