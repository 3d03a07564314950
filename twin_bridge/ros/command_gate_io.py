"""The twin node's command gate I/O: cmd_vel and e_stop in, the gated command out.

The gate has a node, executor and thread of its own in the twin node's process (like the
recorder), so a command never queues behind the inputs the twin node's executor mirrors:
each command is one call into the core (:meth:`DigitalTwin.judge_command`) on the gate's
thread, on the newest inputs the other thread accepted (see
:mod:`twin_bridge.twin.safety.twin_gate`); a timer there turns a new physical scan into
obstacles between commands. The gated command goes to ``virtual/cmd_vel_safe`` and, only
with ``forward_commands``, to ``forward_topic`` for the robot; an invalid command (NaN, huge)
gives a zero twist there.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

from diagnostic_msgs.msg import DiagnosticStatus
from geometry_msgs.msg import Twist, TwistStamped
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import Bool

from twin_bridge.ros.analysis_conversions import status_to_msg
from twin_bridge.ros.conversions import set_twist, twist_command
from twin_bridge.ros.qos import qos_profile
from twin_bridge.twin.digital_twin import DigitalTwin
from twin_bridge.twin.node_config import CMD_VEL_SAFE_TOPIC, TwinNodeConfig
from twin_bridge.twin.safety.twin_gate import TwinGate

__all__ = ['CommandGateIO', 'E_STOP_QOS', 'gate_io']

#: E-stop subscriptions: reliable transient-local (a latched publisher's last message
#: arrives on connection) and best-effort volatile (matches every other publisher).
E_STOP_QOS = (QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1,
                         reliability=ReliabilityPolicy.RELIABLE,
                         durability=DurabilityPolicy.TRANSIENT_LOCAL),
              QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1,
                         reliability=ReliabilityPolicy.BEST_EFFORT,
                         durability=DurabilityPolicy.VOLATILE))
_WARN_THROTTLE_S = 2.0
#: How often the gate's thread looks for a new scan to turn into obstacles (s).
_SCAN_CHECK_PERIOD = 0.01
#: The interpreter's thread switch interval while the gate runs (s): a command waiting for
#: the GIL gets it within this, not CPython's default 5 ms.
_SWITCH_INTERVAL = 0.0005


class CommandGateIO:
    """Subscriptions and publishers of the command gate of one twin node, on a node and
    thread of their own (see the module doc); :meth:`close` stops them.

    :param node: the twin node (its context, namespace and logger)
    :param config: its parameters
    :param twin: the twin, with its gate on (``twin.safety``)
    """

    def __init__(self, node: Node, config: TwinNodeConfig, twin: DigitalTwin) -> None:
        assert twin.safety is not None
        self._twin, self._gate = twin, twin.safety
        self._logger = node.get_logger().get_child('gate')
        self.node = gate = Node(f'{node.get_name()}_gate', namespace=node.get_namespace(),
                                context=node.context)
        self._stamped = config.cmd_vel_stamped
        msg_type = TwistStamped if self._stamped else Twist
        self._out = msg_type()
        self._out_twist = self._out.twist if self._stamped else self._out
        out_qos = qos_profile('reliable', config.qos_depth)  # what base controllers take
        self._safe_pub = gate.create_publisher(msg_type, CMD_VEL_SAFE_TOPIC, out_qos)
        self._forward_pub = None
        if config.forward_commands:
            self._forward_pub = gate.create_publisher(msg_type, config.forward_topic, out_qos)
            topic = gate.resolve_topic_name(config.forward_topic)
            self._logger.warning(
                '!!! forward_commands is TRUE: the gated command of every '
                f'{gate.resolve_topic_name(config.cmd_vel_topic)} message is published on '
                f'{topic} FOR THE PHYSICAL ROBOT. It moves the robot if anything listens '
                'there. !!!')
        gate.create_subscription(msg_type, config.cmd_vel_topic, self._on_command,
                                 qos_profile(config.input_qos, config.qos_depth))
        for qos in E_STOP_QOS:
            gate.create_subscription(Bool, config.e_stop_topic, self._on_e_stop, qos)
        if self._gate.wants_scans:
            gate.create_timer(_SCAN_CHECK_PERIOD, self._gate.prepare)
        sys.setswitchinterval(min(sys.getswitchinterval(), _SWITCH_INTERVAL))
        self._executor = SingleThreadedExecutor(context=node.context)
        self._executor.add_node(gate)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._spin, name='twin_gate_spin', daemon=True)
        self._thread.start()

    def _spin(self) -> None:
        while not self._stop.is_set() and self.node.context.ok():
            try:
                self._executor.spin_once(timeout_sec=0.1)
            except Exception:  # the context shut down under us: stop quietly
                if self.node.context.ok() and not self._stop.is_set():
                    raise
                return

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

    def close(self) -> None:
        """Stop the gate's thread and destroy its node (no command is judged after)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(2.0)
        self._executor.shutdown(timeout_sec=1.0)
        self.node.destroy_node()


def gate_io(node: Node, config: TwinNodeConfig, twin: DigitalTwin) -> CommandGateIO | None:
    """The gate's I/O when the twin has a gate, else ``None``."""
    gate: TwinGate | None = twin.safety
    return None if gate is None else CommandGateIO(node, config, twin)
