"""GazeboBackend against a fake "Gazebo side" made of real rclpy publishers/subscribers.

What ros_gz_bridge would carry is played by a second node over real DDS: it listens to the
per-joint Float64 commands and publishes the bridged scan, odometry and joint states. The
SetEntityPose client (ros_gz_interfaces is not installable here) is replaced through the
backend's one injection seam, ``pose_sender``.
"""

from dataclasses import replace
import math

from nav_msgs.msg import Odometry
import numpy as np
import pytest
from rclpy.node import Node
from rclpy.qos import QoSProfile
from ros_harness import RosTestContext
from sensor_msgs.msg import JointState, LaserScan
from std_msgs.msg import Float64

from twin_bridge.core.state import JointStateSample, OdometrySample
from twin_bridge.description.robot_description import default_robot_path, load_robot_description
from twin_bridge.errors import BackendError
from twin_bridge.gazebo.gz_bridge_config import generate_bridge_config
from twin_bridge.ros.conversions import scan_from_msg
from twin_bridge.ros.gazebo_backend import GazeboBackend

NAMESPACE = 'robot1'
TIMEOUT = 15.0


class FakePoseService:
    """Stands in for the bridged set_pose service: records requests, answers on demand."""

    def __init__(self):
        self.requests = []
        self.answers = []

    def __call__(self, model_name, pose, done):
        self.requests.append((model_name, pose))
        self.answers.append(done)


@pytest.fixture(scope='module')
def robot():
    return load_robot_description(default_robot_path())


@pytest.fixture
def setup(robot):
    with RosTestContext('fake_gazebo') as ros:
        twin_node = Node('twin_bridge', namespace=NAMESPACE, context=ros.context)
        ros.executor.add_node(twin_node)
        service = FakePoseService()
        backend = GazeboBackend(twin_node, robot, world_name='warehouse',
                                pose_sender=service)
        try:
            yield ros, twin_node, backend, service
        finally:
            backend.close()
            ros.executor.remove_node(twin_node)
            twin_node.destroy_node()


def _odometry(x, y, yaw):
    return OdometrySample(np.array([x, y, 0.0]),
                          np.array([0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2)]))


def test_backend_topics_are_exactly_the_bridged_ones(setup, robot):
    _, twin_node, backend, _ = setup
    config = generate_bridge_config(robot, world_name='warehouse', namespace=NAMESPACE)
    bridged_in = {e.ros_topic for e in config.entries if e.to_ros}
    bridged_out = {e.ros_topic for e in config.entries if e.to_gz}
    subscribed = {s.topic_name for s in twin_node.subscriptions}
    published = {p.topic_name for p in twin_node.publishers} - {'/rosout', '/parameter_events'}
    assert subscribed == bridged_in
    assert published == bridged_out
    assert config.arguments()[0].startswith(backend.set_pose_service + '@')


def test_joint_commands_reach_the_per_joint_cmd_pos_topics(setup, robot):
    ros, twin_node, backend, _ = setup
    received = {}
    for joint in robot.movable_joint_names:
        topic = f'/{NAMESPACE}/twin/joint/{joint}/cmd_pos'
        received[joint] = ros.collect(topic, Float64, QoSProfile(depth=10))
    commands = [p for p in twin_node.publishers if p.topic_name.endswith('/cmd_pos')]
    assert len(commands) == len(robot.movable_joint_names)
    assert ros.spin_until(lambda: all(p.get_subscription_count() == 1 for p in commands),
                          TIMEOUT)
    targets = {'left_wheel_joint': 12.5, 'right_wheel_joint': -3.0, 'pan_joint': 0.7,
               'tilt_joint': -0.4}
    names = tuple(targets)
    backend.mirror(joints=JointStateSample(names, np.array([targets[n] for n in names])))
    assert ros.spin_until(lambda: all(len(received[j]) == 1 for j in names), TIMEOUT)
    assert {j: received[j].last.data for j in names} == targets
    # A subset only moves those joints.
    backend.mirror(joints=JointStateSample(('pan_joint',), np.array([-1.25])))
    assert ros.spin_until(lambda: len(received['pan_joint']) == 2, TIMEOUT)
    ros.spin_for(0.2)
    assert received['pan_joint'].last.data == -1.25
    assert len(received['tilt_joint']) == 1


def test_unknown_joint_is_rejected_and_nothing_is_published(setup):
    ros, _, backend, _ = setup
    pan = ros.collect(f'/{NAMESPACE}/twin/joint/pan_joint/cmd_pos', Float64)
    ros.spin_for(0.3)
    with pytest.raises(BackendError, match="'elbow_joint'"):
        backend.mirror(joints=JointStateSample(('pan_joint', 'elbow_joint'),
                                               np.array([0.1, 0.2])))
    ros.spin_for(0.3)
    assert len(pan) == 0


def test_bridged_sensing_comes_back_converted(setup, robot):
    ros, _, backend, _ = setup
    node = ros.node
    pubs = {
        'scan': node.create_publisher(LaserScan, f'/{NAMESPACE}/twin/scan', 10),
        'odom': node.create_publisher(Odometry, f'/{NAMESPACE}/twin/odometry', 10),
        'joints': node.create_publisher(JointState, f'/{NAMESPACE}/twin/joint_states', 10),
    }
    assert ros.spin_until(lambda: all(p.get_subscription_count() == 1 for p in pubs.values()),
                          TIMEOUT)
    assert backend.scan() is None and backend.odometry() is None
    assert backend.joint_state() is None

    lidar = robot.lidar
    scan = LaserScan()
    scan.header.frame_id = 'twin_robot/base_link/lidar'  # Gazebo's scoped name
    scan.angle_min, scan.angle_max = lidar.min_angle, lidar.max_angle
    scan.angle_increment = lidar.angle_increment
    scan.range_min, scan.range_max = lidar.range_min, lidar.range_max
    ranges = np.linspace(0.5, 11.0, lidar.samples).astype(np.float32)
    ranges[7] = np.inf
    scan.ranges = ranges.tolist()
    odom = Odometry()
    odom.header.frame_id, odom.child_frame_id = 'odom', 'base_link'
    odom.pose.pose.position.x, odom.pose.pose.position.y = 1.5, -2.0
    odom.pose.pose.orientation.z, odom.pose.pose.orientation.w = math.sin(0.3), math.cos(0.3)
    odom.twist.twist.linear.x, odom.twist.twist.angular.z = 0.4, 0.1
    odom.header.stamp.sec = 1234
    joints = JointState()
    joints.name = ['tilt_joint', 'caster_swivel', 'pan_joint', 'left_wheel_joint',
                   'right_wheel_joint']
    joints.position = [0.2, 9.0, -0.5, 3.0, 4.0]
    joints.velocity = [0.0, 0.0, 0.1, 1.0, 1.0]
    pubs['scan'].publish(scan)
    pubs['odom'].publish(odom)
    pubs['joints'].publish(joints)
    assert ros.spin_until(lambda: all(backend.received[k] >= 1 for k in backend.received),
                          TIMEOUT)

    got_scan = backend.scan()
    assert got_scan.frame_id == lidar.frame_id  # the description's frame, not Gazebo's
    assert got_scan.ranges.dtype == np.float32
    np.testing.assert_array_equal(got_scan.ranges, ranges)
    assert got_scan.angle_increment == pytest.approx(lidar.angle_increment)
    assert backend.scan() is None  # each rendered scan is handed out once
    got_odom = backend.odometry()
    np.testing.assert_allclose(got_odom.position, [1.5, -2.0, 0.0])
    np.testing.assert_allclose(got_odom.orientation, [0, 0, math.sin(0.3), math.cos(0.3)])
    np.testing.assert_allclose(got_odom.linear_velocity, [0.4, 0, 0])
    assert got_odom.stamp_ns == 0
    got_joints = backend.joint_state()
    assert got_joints.names == backend.joint_names  # reordered, the unknown joint dropped
    np.testing.assert_allclose(got_joints.positions, [3.0, 4.0, -0.5, 0.2])
    np.testing.assert_allclose(got_joints.velocities, [1.0, 1.0, 0.1, 0.0])

    # A malformed joint state keeps the last good one.
    bad = JointState()
    bad.name, bad.position = ['pan_joint', 'tilt_joint'], [1.0]
    pubs['joints'].publish(bad)
    ros.spin_for(0.3)
    np.testing.assert_allclose(backend.joint_state().positions, [3.0, 4.0, -0.5, 0.2])


def test_base_pose_latest_wins_with_one_request_in_flight(setup):
    _, _, backend, service = setup
    for i in range(5):
        backend.mirror(odometry=_odometry(float(i), 2.0 * i, 0.1 * i))
    assert len(service.requests) == 1
    model, pose = service.requests[0]
    assert model == 'twin_robot'
    np.testing.assert_allclose(pose.position, [0.0, 0.0, 0.0])
    stats = backend.pose_requests
    assert stats.in_flight and stats.pending and stats.coalesced == 3
    service.answers[0](True)
    assert len(service.requests) == 2
    _, latest = service.requests[1]
    np.testing.assert_allclose(latest.position, [4.0, 8.0, 0.0])
    np.testing.assert_allclose(latest.orientation, [0, 0, math.sin(0.2), math.cos(0.2)])
    service.answers[1](False)  # Gazebo refused: counted, nothing resent
    stats = backend.pose_requests
    assert (stats.sent, stats.succeeded, stats.failed, stats.in_flight) == (2, 1, 1, False)


FOOTPRINT_URDF = """<robot name="fp_bot">
  <link name="base_link"/><link name="base_footprint"/><link name="mast"/>
  <joint name="footprint_joint" type="fixed"><parent link="base_link"/>
    <child link="base_footprint"/><origin xyz="0 0 -0.15"/></joint>
  <joint name="pan" type="revolute"><parent link="base_link"/><child link="mast"/>
    <axis xyz="0 0 1"/><limit lower="-1" upper="1" effort="1" velocity="1"/></joint>
</robot>"""


def test_base_footprint_odometry_places_the_model_root():
    """set_pose moves the model frame (the URDF root): the session converts a base_footprint
    pose once, the backend sends what it is given."""
    from twin_bridge.description.robot_description import parse_urdf
    from twin_bridge.twin.twin_session import TwinSession
    with RosTestContext('fake_gazebo_frames') as ros:
        service = FakePoseService()
        backend = GazeboBackend(ros.node, parse_urdf(FOOTPRINT_URDF), world_name='warehouse',
                                pose_sender=service)
        try:
            session = TwinSession(backend)           # the robot comes from the backend
            sample = replace(_odometry(1.0, 2.0, 0.3), child_frame_id='base_footprint',
                             stamp_ns=10)
            assert session.on_odometry(sample, 1.0, 10).accepted
            _, pose = service.requests[0]
            np.testing.assert_allclose(pose.position, [1.0, 2.0, 0.15], atol=1e-12)
            np.testing.assert_allclose(pose.orientation, sample.orientation, atol=1e-12)
            moving = session.on_odometry(replace(sample, child_frame_id='mast'), 1.1, 10)
            assert moving.verdict.reason.value == 'moving_child_frame'
            assert len(service.requests) == 1
        finally:
            backend.close()


def test_step_is_refused_because_gazebo_owns_the_clock(setup):
    _, _, backend, _ = setup
    with pytest.raises(BackendError, match='own clock'):
        backend.step(0.01)


def test_missing_ros_gz_interfaces_gives_an_install_hint(robot):
    try:
        import ros_gz_interfaces  # noqa: F401
        pytest.skip('ros_gz_interfaces is installed here; the error path cannot be reached')
    except ImportError:
        pass
    with RosTestContext('twin_bridge') as ros:
        with pytest.raises(BackendError, match='ros_gz_interfaces.*apt install'):
            GazeboBackend(ros.node, robot, world_name='warehouse')


def test_scan_from_msg_keeps_gazebo_frame_without_a_description():
    msg = LaserScan()
    msg.header.frame_id = 'lidar_link'
    msg.ranges = [1.0, float('inf')]
    scan = scan_from_msg(msg)
    assert scan.frame_id == 'lidar_link'
    assert scan.ranges.tolist() == [1.0, float('inf')]


def test_world_name_comes_from_the_world_file_when_not_given(robot):
    with RosTestContext('twin_bridge') as ros:
        by_file = GazeboBackend(ros.node, robot, world='obstacle_course', gz_world_name='',
                                pose_sender=FakePoseService())
        assert by_file.set_pose_service == '/world/obstacle_course/set_pose'
        by_file.close()
        explicit = GazeboBackend(ros.node, robot, world='obstacle_course', gz_world_name='lab',
                                 pose_sender=FakePoseService())
        assert explicit.world_name == 'lab'
        explicit.close()
        with pytest.raises(BackendError, match='world name'):
            GazeboBackend(ros.node, robot, pose_sender=FakePoseService())
        with pytest.raises(BackendError, match='no_such_world'):
            GazeboBackend(ros.node, robot, world='no_such_world', pose_sender=FakePoseService())


# -- the SetEntityPose client against the interface definitions ------------------------------
# ros_gz_interfaces cannot be installed here, so these stand-ins copy its definitions
# (ros_gz_interfaces/msg/Entity.msg, srv/SetEntityPose.srv, ros_gz 1.0.11+) and accept no
# other field: a misspelt or invented field in the sender fails here as it would on ROS.

class _Entity:
    NONE, LIGHT, MODEL, LINK, VISUAL, COLLISION, SENSOR, JOINT = range(8)
    __slots__ = ('id', 'name', 'type')

    def __init__(self):
        self.id, self.name, self.type = 0, '', 0


class _SetEntityPose:
    class Request:
        __slots__ = ('entity', 'pose')

        def __init__(self):
            from geometry_msgs.msg import Pose
            self.entity, self.pose = _Entity(), Pose()

    class Response:
        __slots__ = ('success',)

        def __init__(self, success=False):
            self.success = success


class _Future:
    def __init__(self):
        self.callbacks, self.response, self.error = [], None, None

    def add_done_callback(self, callback):
        self.callbacks.append(callback)

    def finish(self, response=None, error=None):
        self.response, self.error = response, error
        for callback in self.callbacks:
            callback(self)

    def result(self):
        return self.response

    def exception(self):
        return self.error


class _Client:
    def __init__(self, srv_type, name):
        self.srv_type, self.name, self.ready, self.calls = srv_type, name, True, []

    def service_is_ready(self):
        return self.ready

    def call_async(self, request):
        assert isinstance(request, self.srv_type.Request)
        future = _Future()
        self.calls.append((request, future))
        return future


class _ClientNode:
    def __init__(self):
        self.clients = []

    def create_client(self, srv_type, name):
        self.clients.append(_Client(srv_type, name))
        return self.clients[-1]


@pytest.fixture
def stub_ros_gz_interfaces(monkeypatch):
    import sys
    import types
    package = types.ModuleType('ros_gz_interfaces')
    msg, srv = types.ModuleType('ros_gz_interfaces.msg'), types.ModuleType('ros_gz_interfaces.srv')
    msg.Entity, srv.SetEntityPose = _Entity, _SetEntityPose
    package.msg, package.srv = msg, srv
    for name, module in (('ros_gz_interfaces', package), ('ros_gz_interfaces.msg', msg),
                         ('ros_gz_interfaces.srv', srv)):
        monkeypatch.setitem(sys.modules, name, module)


def test_set_entity_pose_request_follows_the_service_definition(stub_ros_gz_interfaces):
    from twin_bridge.core.transforms import Pose
    from twin_bridge.ros.gazebo_backend import make_set_entity_pose_sender

    node = _ClientNode()
    send = make_set_entity_pose_sender(node, '/world/warehouse/set_pose')
    client = node.clients[0]
    assert (client.srv_type, client.name) == (_SetEntityPose, '/world/warehouse/set_pose')
    answers = []
    pose = Pose(np.array([1.0, -2.0, 0.05]), np.array([0.0, 0.0, 0.6, 0.8]))
    send('twin_robot', pose, answers.append)
    request, future = client.calls[0]
    # the bridge copies entity id/name and the pose into gz.msgs.Pose; UserCommands looks the
    # model up by name among the world's children when the id is 0
    assert (request.entity.name, request.entity.type, request.entity.id) == (
        'twin_robot', _Entity.MODEL, 0)
    p, q = request.pose.position, request.pose.orientation
    assert (p.x, p.y, p.z, q.x, q.y, q.z, q.w) == (1.0, -2.0, 0.05, 0.0, 0.0, 0.6, 0.8)
    future.finish(_SetEntityPose.Response(success=True))
    send('twin_robot', pose, answers.append)
    client.calls[1][1].finish(_SetEntityPose.Response(success=False))
    send('twin_robot', pose, answers.append)
    client.calls[2][1].finish(error=RuntimeError('bridge gone'))
    send('twin_robot', pose, answers.append)
    client.calls[3][1].finish()  # cancelled: no result, no exception
    assert answers == [True, False, False, False]


def test_set_entity_pose_fails_at_once_while_the_bridge_is_down(stub_ros_gz_interfaces):
    from twin_bridge.core.transforms import Pose
    from twin_bridge.ros.gazebo_backend import make_set_entity_pose_sender

    node = _ClientNode()
    send = make_set_entity_pose_sender(node, '/world/w/set_pose')
    node.clients[0].ready = False
    answers = []
    send('twin_robot', Pose(np.zeros(3), np.array([0.0, 0.0, 0.0, 1.0])), answers.append)
    assert answers == [False] and node.clients[0].calls == []
