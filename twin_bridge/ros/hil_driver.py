"""The physical side of a hardware-in-the-loop run: drive the robot, record what it did.

:class:`HilDriver` runs in a private rclpy context. It records the robot's odometry
(``odom``: header stamp, or receive time for an unstamped message, as wall-clock seconds)
and every command that drives it, and either runs a Python controller itself (each
``control_period`` it builds an :class:`~twin_bridge.scenarios.controllers.Observation`
from the newest odometry and scan, calls the controller and publishes the command on
``cmd_vel``, recording the publish time) or, for a controller that is a ROS node, only
listens to ``cmd_vel`` and records each command with its stamp (receive time for a Twist).
At the end it publishes a zero command so the robot stops. Bad controller output (not
two finite numbers) is published as a stop and counted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
import math
import time
from typing import Any

from geometry_msgs.msg import Twist, TwistStamped
from nav_msgs.msg import Odometry
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import LaserScan

from twin_bridge.core.lidar import ScanData
from twin_bridge.core.transforms import yaw_from_quat
from twin_bridge.errors import ConfigError
from twin_bridge.ros.conversions import (
    ns_to_time,
    odometry_from_msg,
    scan_from_msg,
    set_twist,
    time_to_ns,
    twist_command,
)
from twin_bridge.ros.private_context import PrivateContext
from twin_bridge.ros.qos import qos_profile
from twin_bridge.scenarios.controllers import Controller, Observation
from twin_bridge.scenarios.hil_compare import CommandLog, Trajectory

__all__ = ['HilDriver', 'HilRecording']


@dataclass
class HilRecording:
    """What the physical robot did: ``odometry`` rows ``(t, x, y, yaw, v, w)`` and
    ``commands`` rows ``(t, v, w)`` (wall-clock seconds); ``start`` when driving began;
    ``bad_commands`` the controller outputs that were not two finite numbers."""

    odometry: list[tuple[float, float, float, float, float, float]] = field(
        default_factory=list)
    commands: list[tuple[float, float, float]] = field(default_factory=list)
    start: float = math.nan
    bad_commands: int = 0

    def trajectory(self) -> Trajectory:
        """The odometry as a :class:`Trajectory`."""
        return Trajectory.from_samples([row[:4] for row in self.odometry])

    def command_log(self) -> CommandLog:
        """The commands as a :class:`CommandLog`."""
        return CommandLog.from_samples(self.commands)


def _stamp_s(header: Any) -> float:
    ns = time_to_ns(header.stamp)
    return ns * 1e-9 if ns > 0 else time.time()


class HilDriver(PrivateContext):
    """Drive and record one robot (see the module doc).

    :param cmd_vel_topic: where the robot takes commands (and a ROS controller publishes)
    :param odom_topic: the robot's odometry
    :param scan_topic: its scan for the controller (``''``: none)
    :param stamped: commands are ``TwistStamped``
    """

    def __init__(self, cmd_vel_topic: str = 'cmd_vel', odom_topic: str = 'odom',
                 scan_topic: str = 'scan', *, stamped: bool = False) -> None:
        super().__init__('twin_hil')
        self.cmd_vel_topic, self.odom_topic, self.scan_topic = cmd_vel_topic, odom_topic, scan_topic
        self.stamped = stamped
        self.recording = HilRecording()
        self._scan: ScanData | None = None
        self._recording_commands = False

    def __enter__(self) -> HilDriver:
        super().__enter__()
        node, msg_type = self.node, TwistStamped if self.stamped else Twist
        node.create_subscription(Odometry, self.odom_topic, self._on_odom,
                                 qos_profile_sensor_data)
        if self.scan_topic:
            node.create_subscription(LaserScan, self.scan_topic, self._on_scan,
                                     qos_profile_sensor_data)
        self._pub = node.create_publisher(msg_type, self.cmd_vel_topic,
                                          qos_profile('reliable', 10))
        self._msg = msg_type()
        return self

    # -- inputs ----------------------------------------------------------------------------
    def _on_odom(self, msg: Odometry) -> None:
        sample = odometry_from_msg(msg)
        pose = (float(sample.position[0]), float(sample.position[1]),
                float(yaw_from_quat(sample.orientation)))
        if not all(math.isfinite(v) for v in pose):
            return
        self.recording.odometry.append((_stamp_s(msg.header), *pose,
                                        float(sample.linear_velocity[0]),
                                        float(sample.angular_velocity[2])))

    def _on_scan(self, msg: LaserScan) -> None:
        try:
            self._scan = scan_from_msg(msg)
        except ValueError:
            self._scan = None

    def _on_command(self, msg: Any, info: Any) -> None:
        if self._recording_commands:
            twist = msg.twist if self.stamped else msg
            v, w = twist_command(twist)
            # An unstamped command's time is when it was published (the DDS source time),
            # not when this process got round to it: a busy recorder must not shift it.
            source_ns = info.get('source_timestamp', 0) if isinstance(info, dict) else 0
            t = _stamp_s(msg.header) if self.stamped else (
                source_ns * 1e-9 if source_ns > 0 else time.time())
            if math.isfinite(v) and math.isfinite(w):
                self.recording.commands.append((t, v, w))

    # -- driving ---------------------------------------------------------------------------
    def wait_for_odometry(self, timeout: float, abort: Callable[[], bool] | None = None
                          ) -> bool:
        """Spin until the robot's odometry arrives (or ``timeout`` s / ``abort()``)."""
        return self.spin_until(lambda: bool(self.recording.odometry), timeout, abort)

    def _publish(self, v: float, w: float) -> float:
        now = time.time()
        msg = self._msg
        if self.stamped:
            msg.header.stamp = ns_to_time(int(now * 1e9))
        set_twist(msg.twist if self.stamped else msg, v, w)
        self._pub.publish(msg)
        return now

    def drive(self, controller: Controller, duration: float, control_period: float,
              goal: tuple[float, float] | None = None,
              abort: Callable[[], bool] | None = None) -> HilRecording:
        """Run ``controller`` for ``duration`` s, a command each ``control_period`` s."""
        rec = self.recording
        rec.start = time.time()
        begin = time.monotonic()
        k = 0
        while (elapsed := time.monotonic() - begin) < duration:
            if abort is not None and abort():
                break
            if elapsed >= k * control_period:
                k = int(elapsed / control_period) + 1
                v, w = self._control(controller, time.time() - rec.start, goal)
                rec.commands.append((self._publish(v, w), v, w))
            self.spin_once(min(0.01, max(0.0, k * control_period - elapsed)))
        self.stop_robot()
        return rec

    def _control(self, controller: Controller, t: float, goal: tuple[float, float] | None
                 ) -> tuple[float, float]:
        _, x, y, yaw, v, w = self.recording.odometry[-1]
        try:
            out = controller(Observation(t, (x, y, yaw), (v, w), self._scan, goal))
            cmd = (float(out[0]), float(out[1]))
        except (TypeError, ValueError, IndexError):
            cmd = (math.nan, math.nan)
        if not (math.isfinite(cmd[0]) and math.isfinite(cmd[1])):
            self.recording.bad_commands += 1
            return 0.0, 0.0
        return cmd

    def listen(self, duration: float, startup_timeout: float = 60.0,
               abort: Callable[[], bool] | None = None) -> HilRecording:
        """Record the commands a ROS controller node publishes on ``cmd_vel_topic``: driving
        starts with the first of them (waited for up to ``startup_timeout`` s) and lasts
        ``duration`` s. :raise ConfigError: no command came"""
        msg_type = TwistStamped if self.stamped else Twist
        self.node.create_subscription(msg_type, self.cmd_vel_topic, self._on_command,
                                      qos_profile('sensor_data', 50))
        self._recording_commands = True
        rec = self.recording
        if not self.spin_until(lambda: bool(rec.commands), startup_timeout, abort):
            self._recording_commands = False
            raise ConfigError(f'HIL: the controller node published nothing on '
                              f'{self.cmd_vel_topic} within {startup_timeout:g} s')
        rec.start = rec.commands[0][0]
        self.spin_until(lambda: False, duration - (time.time() - rec.start), abort)
        self._recording_commands = False
        self.stop_robot()
        return rec

    def stop_robot(self) -> None:
        """Publish a zero command (recorded) and keep recording odometry a moment."""
        self.recording.commands.append((self._publish(0.0, 0.0), 0.0, 0.0))
        self.spin_for(0.2)
