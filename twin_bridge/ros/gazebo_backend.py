"""The Gazebo Harmonic backend: a twin robot in ``gz sim``, reached through ros_gz_bridge.

Joints: one ``std_msgs/Float64`` position command per movable joint on
``<prefix>/joint/<joint>/cmd_pos``, bridged ROS -> Gazebo to the robot's
JointPositionController systems. Base pose: the UserCommands ``/world/<w>/set_pose`` service,
bridged as ``ros_gz_interfaces/srv/SetEntityPose``, latest wins with at most one request in
flight (:class:`~twin_bridge.gazebo.request_coalescer.RequestCoalescer`). Sensing: the latest
bridged ``<prefix>/scan``, ``<prefix>/odometry`` and ``<prefix>/joint_states``.

Topic names are used relative to the node's namespace (``twin/scan``), matching the bridge
config of :func:`twin_bridge.gazebo.gz_bridge_config.generate_bridge_config` with that namespace.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
import threading

from nav_msgs.msg import Odometry
import numpy as np
from rclpy.node import Node
from rclpy.qos import QoSProfile, qos_profile_sensor_data
from sensor_msgs.msg import JointState, LaserScan
from std_msgs.msg import Float64

from twin_bridge.core.backend import SimulatorBackend
from twin_bridge.core.lidar import LidarSpec, ScanData
from twin_bridge.core.quoting import quote_names
from twin_bridge.core.state import JointStateSample, OdometrySample
from twin_bridge.core.transforms import Pose
from twin_bridge.description.resources import find_world
from twin_bridge.errors import BackendError, TwinBridgeError
from twin_bridge.gazebo.gz_topics import (
    DEFAULT_GZ_TOPIC_PREFIX,
    GzTopics,
    world_name_from_sdf,
    world_service,
)
from twin_bridge.gazebo.request_coalescer import CoalescerStats, RequestCoalescer
from twin_bridge.ros.conversions import joint_state_from_msg, odometry_from_msg, scan_from_msg

__all__ = ['GazeboBackend', 'PoseSender', 'make_set_entity_pose_sender']

# send(model_name, pose, done): start one set-pose request; call done(success) once answered.
PoseSender = Callable[[str, Pose, Callable[[bool], None]], None]

_INSTALL_HINT = ('install it with "sudo apt install ros-jazzy-ros-gz" (or '
                 'ros-jazzy-ros-gz-interfaces) and source /opt/ros/jazzy/setup.bash')


def make_set_entity_pose_sender(node: Node, service: str) -> PoseSender:
    """A :data:`PoseSender` calling ``service`` (``ros_gz_interfaces/srv/SetEntityPose``).

    A request made while the service is not (yet) available fails at once rather than
    waiting in DDS for a server that may never answer.

    :raise BackendError: if ``ros_gz_interfaces`` is not installed
    """
    try:
        from ros_gz_interfaces.msg import Entity
        from ros_gz_interfaces.srv import SetEntityPose
    except ImportError as exc:
        raise BackendError(
            'the Gazebo backend mirrors the base pose through ros_gz_interfaces/srv/'
            f'SetEntityPose, but ros_gz_interfaces is not installed: {_INSTALL_HINT}') from exc
    client = node.create_client(SetEntityPose, service)

    def send(model_name: str, pose: Pose, done: Callable[[bool], None]) -> None:
        if not client.service_is_ready():
            done(False)
            return
        request = SetEntityPose.Request()
        request.entity.name = model_name
        request.entity.type = Entity.MODEL
        p, q = request.pose.position, request.pose.orientation
        p.x, p.y, p.z = (float(v) for v in pose.position)
        q.x, q.y, q.z, q.w = (float(v) for v in pose.orientation)
        future = client.call_async(request)
        # a cancelled call (client destroyed on close) ends with neither result nor exception
        future.add_done_callback(lambda f: done(
            f.exception() is None and f.result() is not None and bool(f.result().success)))

    send.client = client  # type: ignore[attr-defined]  # destroyed by GazeboBackend.close
    return send


def _world_name(name: str, world: str | Path | None) -> str:
    if name.strip():
        return name.strip()
    if world is None or not str(world).strip():
        raise BackendError('the Gazebo backend needs the world name (gz_world_name) or the '
                           'world file it runs (world)')
    try:
        return world_name_from_sdf(find_world(str(world)))
    except TwinBridgeError as exc:
        raise BackendError(f'cannot tell the Gazebo world name: {exc}') from exc


def _relative(topic: str) -> str:
    """``/twin/scan`` -> ``twin/scan``: resolved under the node's namespace."""
    return topic.lstrip('/')


class GazeboBackend(SimulatorBackend):
    """A twin robot running in Gazebo Harmonic, driven and read through ros_gz_bridge.

    :param node: the ROS node that owns the publishers, subscriptions and service client
    :param robot: the robot description Gazebo was given (``RobotDescription``)
    :param world_name: the Gazebo world's name (its ``set_pose`` service scope); when empty,
        ``gz_world_name``, else the ``<world name>`` read from ``world`` (a shipped world name
        or an SDF path) - so the node can pass its ``world``/``gz_world_name`` parameters as is
    :param model_name: the spawned model's name (``ros_gz_sim create -name``)
    :param gz_topic_prefix: xacro arg ``gz_topic_prefix`` the robot was expanded with
    :param pose_sender: replaces the ``SetEntityPose`` client (tests, other transports)
    :param request_timeout: seconds before an unanswered ``set_pose`` request is given up
    """

    def __init__(self, node: Node, robot: object, *, world_name: str = '',
                 model_name: str = 'twin_robot',
                 gz_topic_prefix: str = DEFAULT_GZ_TOPIC_PREFIX,
                 world: str | Path | None = None, gz_world_name: str = '',
                 pose_sender: PoseSender | None = None,
                 request_timeout: float = 1.0) -> None:
        self._node = node
        self._robot = robot
        self._model_name = model_name
        self._joint_names = tuple(robot.movable_joint_names)
        self._lidar: LidarSpec | None = robot.lidar
        self.topics = GzTopics.for_robot(robot, gz_topic_prefix)
        self.world_name = _world_name(world_name or gz_world_name, world)
        self.set_pose_service = world_service(self.world_name, 'set_pose')
        self._sender = pose_sender or make_set_entity_pose_sender(node, self.set_pose_service)
        self._poses: RequestCoalescer[Pose] = RequestCoalescer(
            lambda pose, done: self._sender(self._model_name, pose, done),
            timeout=request_timeout)

        # Commands: depth 1 - only the newest position of a joint matters.
        command_qos = QoSProfile(depth=1)
        self._commands = {
            joint: (node.create_publisher(Float64, _relative(topic), command_qos), Float64())
            for joint, topic in self.topics.joint_commands(self._joint_names).items()}

        self._lock = threading.Lock()
        self._scan: ScanData | None = None
        self._odometry: OdometrySample | None = None
        self._joint_state: JointStateSample | None = None
        self.received = {'scan': 0, 'odometry': 0, 'joint_states': 0}
        # The bridge publishes reliable; a best-effort depth-1 reader keeps only the newest.
        self._subscriptions = [
            node.create_subscription(Odometry, _relative(self.topics.odometry),
                                     self._on_odometry, qos_profile_sensor_data),
            node.create_subscription(JointState, _relative(self.topics.joint_states),
                                     self._on_joint_states, qos_profile_sensor_data),
        ]
        if self._lidar is not None:
            self._subscriptions.append(node.create_subscription(
                LaserScan, _relative(self.topics.scan), self._on_scan, qos_profile_sensor_data))

    # -- SimulatorBackend ----------------------------------------------------------------------

    @property
    def joint_names(self) -> tuple[str, ...]:
        """The robot's movable joints (each has a position controller in Gazebo)."""
        return self._joint_names

    @property
    def lidar(self) -> LidarSpec | None:
        """The robot's lidar (Gazebo renders it: ``gpu_lidar``)."""
        return self._lidar

    @property
    def robot(self) -> object:
        """The robot description Gazebo was given (names the odometry frames)."""
        return self._robot

    def mirror(self, odometry: OdometrySample | None = None,
               joints: JointStateSample | None = None) -> None:
        """Command joint positions (published now) and the root's pose (latest wins, one
        ``set_pose`` request in flight). Returns without waiting for Gazebo.

        Inputs follow :meth:`SimulatorBackend.mirror`'s contract: ``set_pose`` places the
        model frame, i.e. the root link, which is the frame ``odometry`` is in.

        :raise BackendError: for a joint the robot does not have
        """
        if joints is not None:
            commands = self._commands
            unknown = [n for n in joints.names if n not in commands]
            if unknown:
                raise BackendError(f'unknown joint(s) {quote_names(unknown)}; the Gazebo twin '
                                   f'has movable joints {list(self._joint_names)}')
            for name, position in zip(joints.names, joints.positions.tolist(), strict=True):
                publisher, message = commands[name]
                message.data = position
                publisher.publish(message)
        if odometry is not None:
            self._poses.submit(Pose(odometry.position, odometry.orientation))
        else:
            self._poses.poll()

    def scan(self) -> ScanData | None:
        """The newest scan Gazebo rendered, each one once: ``None`` until a new one arrives
        (so the node's scan timer never republishes or skips a rendered scan silently)."""
        with self._lock:
            scan, self._scan = self._scan, None
            return scan

    def odometry(self) -> OdometrySample | None:
        """The newest Gazebo odometry of the twin, stamp 0 (``None`` before the first)."""
        with self._lock:
            return self._odometry

    def joint_state(self) -> JointStateSample | None:
        """The newest Gazebo joint state, restricted to and ordered as :attr:`joint_names`
        (joints Gazebo did not report are left out); stamp 0."""
        with self._lock:
            return self._joint_state

    def step(self, duration: float, wheel_velocities: dict[str, float] | None = None) -> None:
        """Not available: Gazebo runs its own clock and physics loop.

        :raise BackendError: always
        """
        raise BackendError('the Gazebo backend cannot step: Gazebo runs its own clock (use '
                           'gz sim -r, or pause/step it through /world/<w>/control); use the '
                           'embedded backend for prediction and training rollouts')

    def close(self) -> None:
        """Stop mirroring and release the publishers, subscriptions and service client."""
        self._poses.close()
        for publisher, _ in self._commands.values():
            self._node.destroy_publisher(publisher)
        for subscription in self._subscriptions:
            self._node.destroy_subscription(subscription)
        client = getattr(self._sender, 'client', None)
        if client is not None:
            self._node.destroy_client(client)
        self._commands.clear()
        self._subscriptions.clear()

    # -- statistics ----------------------------------------------------------------------------

    @property
    def pose_requests(self) -> CoalescerStats:
        """Counters of the ``set_pose`` requests (sent, coalesced, failed, timed out...)."""
        return self._poses.stats

    # -- callbacks -----------------------------------------------------------------------------

    def _on_scan(self, msg: LaserScan) -> None:
        scan = scan_from_msg(msg, self._lidar.frame_id if self._lidar else None)
        with self._lock:
            self._scan = scan
            self.received['scan'] += 1

    def _on_odometry(self, msg: Odometry) -> None:
        sample = replace(odometry_from_msg(msg), stamp_ns=0)
        with self._lock:
            self._odometry = sample
            self.received['odometry'] += 1

    def _on_joint_states(self, msg: JointState) -> None:
        raw = joint_state_from_msg(msg)
        index = {name: i for i, name in enumerate(raw.names)}
        rows = [index[n] for n in self._joint_names if n in index]
        if not rows or len(raw.positions) != len(raw.names):
            return  # nothing of ours, or malformed: keep the last good state
        take = np.array(rows, dtype=np.intp)

        def pick(values: np.ndarray | None) -> np.ndarray | None:
            return values[take] if values is not None and len(values) == len(raw.names) \
                else None

        sample = JointStateSample(tuple(raw.names[i] for i in rows), raw.positions[take],
                                  pick(raw.velocities), pick(raw.efforts), 0)
        with self._lock:
            self._joint_state = sample
            self.received['joint_states'] += 1
