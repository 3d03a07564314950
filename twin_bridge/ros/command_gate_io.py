"""The twin node's command gate I/O: cmd_vel and e_stop in, the gated command out.

Each command is one call into the core (:meth:`DigitalTwin.judge_command`) on the executor
thread, which also takes the inputs (a scan becomes obstacles as it arrives), so the gate
always judges the newest mirrored pose.
The gated command goes to ``virtual/cmd_vel_safe`` and, only with ``forward_commands``, to
``forward_topic`` for the robot; an invalid command (NaN, huge) gives a zero twist there.
"""

from __future__ import annotations

import time
from typing import Any

from diagnostic_msgs.msg import DiagnosticStatus
from geometry_msgs.msg import Twist, TwistStamped
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import Bool

from twin_bridge.ros.analysis_conversions import status_to_msg
from twin_bridge.ros.conversions import set_twist, twist_command
from twin_bridge.ros.qos import qos_profile
from twin_bridge.twin.digital_twin import DigitalTwin
from twin_bridge.twin.node_config import CMD_VEL_SAFE_TOPIC, TwinNodeConfig
from twin_bridge.twin.safety.twin_gate import TwinGate

__all__ = ['CommandGateIO', 'E_STOP_QOS']

#: E-stop subscriptions: reliable transient-local (a latched publisher's last message
#: arrives on connection) and best-effort volatile (matches every other publisher).
E_STOP_QOS = (QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1,
                         reliability=ReliabilityPolicy.RELIABLE,
                         durability=DurabilityPolicy.TRANSIENT_LOCAL),
              QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1,
                         reliability=ReliabilityPolicy.BEST_EFFORT,
                         durability=DurabilityPolicy.VOLATILE))
_WARN_THROTTLE_S = 2.0


class CommandGateIO:
    """Subscriptions and publishers of the command gate of one twin node.

    :param node: the twin node
    :param config: its parameters
    :param twin: the twin, with its gate on (``twin.safety``)
    """

    def __init__(self, node: Node, config: TwinNodeConfig, twin: DigitalTwin) -> None:
        assert twin.safety is not None
        self._twin, self._gate = twin, twin.safety
        # The node takes inputs and commands on one single-threaded executor: cast each scan
        # as it arrives, so the next command does not wait for it.
        twin.safety.cast_on_input = True
        self._logger = node.get_logger().get_child('gate')
        self._stamped = config.cmd_vel_stamped
        msg_type = TwistStamped if self._stamped else Twist
        self._out = msg_type()
        self._out_twist = self._out.twist if self._stamped else self._out
        out_qos = qos_profile('reliable', config.qos_depth)  # what base controllers take
        self._safe_pub = node.create_publisher(msg_type, CMD_VEL_SAFE_TOPIC, out_qos)
        self._forward_pub = None
        if config.forward_commands:
            self._forward_pub = node.create_publisher(msg_type, config.forward_topic, out_qos)
            topic = node.resolve_topic_name(config.forward_topic)
            self._logger.warning(
                '!!! forward_commands is TRUE: the gated command of every '
                f'{node.resolve_topic_name(config.cmd_vel_topic)} message is published on '
                f'{topic} FOR THE PHYSICAL ROBOT. It moves the robot if anything listens '
                'there. !!!')
        node.create_subscription(msg_type, config.cmd_vel_topic, self._on_command,
                                 qos_profile(config.input_qos, config.qos_depth))
        for qos in E_STOP_QOS:
            node.create_subscription(Bool, config.e_stop_topic, self._on_e_stop, qos)

    def _on_command(self, msg: Any) -> None:
        linear, angular = twist_command(msg.twist if self._stamped else msg)
        verdict = self._twin.judge_command(linear, angular, time.monotonic())
        out = self._out
        if self._stamped:
            out.header = msg.header
        set_twist(self._out_twist, *verdict.command_out)
        self._safe_pub.publish(out)
        if self._forward_pub is not None:
            self._forward_pub.publish(out)
        if verdict.reason in ('invalid_command', 'stale_odometry', 'stale_scan'):
            self._logger.warning(f'command stopped: {verdict.reason}',
                                 throttle_duration_sec=_WARN_THROTTLE_S)

    def _on_e_stop(self, msg: Bool, info: Any) -> None:
        key = (info.get('source_timestamp'), info.get('publication_sequence_number'))
        was = self._gate.gate.e_stopped
        if self._gate.on_e_stop(bool(msg.data), key) and was != msg.data:
            self._logger.warning('e-stop ENGAGED: every command is a stop' if msg.data
                                 else 'e-stop released')

    def statuses(self, hardware_id: str) -> list[DiagnosticStatus]:
        """The ``twin safety`` status (see :meth:`TwinGate.status`)."""
        status = self._gate.status()
        return [status_to_msg('twin safety', status.level, status.message, status.values,
                              hardware_id)]


def gate_io(node: Node, config: TwinNodeConfig, twin: DigitalTwin) -> CommandGateIO | None:
    """The gate's I/O when the twin has a gate, else ``None``."""
    gate: TwinGate | None = twin.safety
    return None if gate is None else CommandGateIO(node, config, twin)
