"""Record topics into an MCAP bag (rosbag2 folder) off the executor thread.

Subscriptions are raw (``raw=True``): rclpy hands over the CDR bytes as they arrived and a
:class:`~twin_bridge.recording.recorder.Recorder` writes them on a thread of its own, so
nothing is deserialised or serialised again on the way to the disk.
"""

from __future__ import annotations

import importlib
import threading
import time
from typing import Any

from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

from twin_bridge.recording.qos_profiles import QosProfile, adapt_request_to_offers
from twin_bridge.recording.recorder import Recorder
from twin_bridge.recording.topic_selection import TopicPatterns

__all__ = ['DISCOVERY_PERIOD_S', 'NodeRecording', 'TopicRecorder', 'message_class',
           'qos_from_rclpy']

#: How often the graph is searched for topics not subscribed yet (s).
DISCOVERY_PERIOD_S = 0.5
#: Keep-last depth of the recording subscriptions (the queue behind them is the recorder's).
SUBSCRIPTION_DEPTH = 100


def qos_from_rclpy(qos: QoSProfile) -> QosProfile:
    """An endpoint's rclpy ``QoSProfile`` as the plain profile a bag stores."""
    return QosProfile.from_enums(int(qos.history), int(qos.depth), int(qos.reliability),
                                 int(qos.durability), qos.deadline.nanoseconds,
                                 qos.lifespan.nanoseconds, int(qos.liveliness),
                                 qos.liveliness_lease_duration.nanoseconds,
                                 bool(qos.avoid_ros_namespace_conventions))


def message_class(type_name: str) -> Any:
    """``'sensor_msgs/msg/JointState'`` -> the Python message class.
    :raise ImportError: when the package is not installed"""
    package, _, name = type_name.split('/')
    try:
        return getattr(importlib.import_module(f'{package}.msg'), name)
    except AttributeError as exc:
        raise ImportError(f'{type_name} is not in {package}.msg') from exc


class TopicRecorder:
    """Subscribes ``node`` (raw) to every topic ``patterns`` select as its publishers appear,
    with the QoS that matches all of them, and hands each message to ``recorder``.

    :param node: the node the subscriptions and the discovery timer are created on
    :param recorder: where messages go
    :param patterns: topic names and ``prefix/*`` patterns
    """

    def __init__(self, node: Node, recorder: Recorder, patterns: list[str]) -> None:
        self._node, self._recorder = node, recorder
        self.patterns = TopicPatterns(patterns, node.resolve_topic_name)
        self.subscribed: dict[str, str] = {}
        self.skipped: dict[str, str] = {}
        self._subscriptions: list[Any] = []
        self.discover()
        self._timer = node.create_timer(DISCOVERY_PERIOD_S, self.discover)

    def discover(self) -> None:
        """Subscribe to the selected topics that have publishers now."""
        node = self._node
        for topic, type_name in self.patterns.select(node.get_topic_names_and_types()):
            if topic in self.subscribed or topic in self.skipped:
                continue
            infos = node.get_publishers_info_by_topic(topic)
            if not infos:
                continue  # only subscribers so far: wait for an offer to record
            try:
                msg_class = message_class(type_name)
            except (ImportError, ValueError) as exc:
                self.skipped[topic] = str(exc)
                node.get_logger().warning(f'not recording {topic}: {exc}')
                continue
            offers = [qos_from_rclpy(i.qos_profile) for i in infos
                      if i.topic_type == type_name]
            reliability, durability = adapt_request_to_offers(offers)
            qos = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=SUBSCRIPTION_DEPTH,
                             reliability=ReliabilityPolicy.RELIABLE if reliability == 'reliable'
                             else ReliabilityPolicy.BEST_EFFORT,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL
                             if durability == 'transient_local' else DurabilityPolicy.VOLATILE)
            handle = self._recorder.add_topic(topic, type_name, offers)

            def on_message(data: bytes, handle: int = handle,
                           offer: Any = self._recorder.offer) -> None:
                offer(handle, time.time_ns(), data)

            self._subscriptions.append(node.create_subscription(
                msg_class, topic, on_message, qos, raw=True))
            self.subscribed[topic] = type_name
            node.get_logger().info(f'recording {topic} ({type_name}, {reliability}, '
                                   f'{len(offers)} publisher(s))')

    def destroy(self) -> None:
        """Stop subscribing (the recorder stays open)."""
        self._timer.cancel()
        for sub in self._subscriptions:
            self._node.destroy_subscription(sub)
        self._subscriptions.clear()


class NodeRecording:
    """A recording inside another node's process: a recorder node of its own in the same
    context, spun by an executor on its own thread, so recording never waits for (or
    delays) the host node's executor.

    :param context: the host node's rclpy context
    :param path: the new bag folder
    :param patterns: absolute topic names and ``prefix/*`` patterns
    """

    def __init__(self, context: Any, path: str, patterns: list[str], *,
                 node_name: str = 'twin_bridge_recorder', **recorder_args: Any) -> None:
        self.recorder = Recorder(path, **recorder_args)
        self.node = Node(node_name, context=context)
        self.topics = TopicRecorder(self.node, self.recorder, patterns)
        self._executor = SingleThreadedExecutor(context=context)
        self._executor.add_node(self.node)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._spin, name='twin_record_spin', daemon=True)
        self._thread.start()

    def _spin(self) -> None:
        while not self._stop.is_set() and self.node.context.ok():
            try:
                self._executor.spin_once(timeout_sec=0.1)
            except Exception:  # context shut down under us: stop quietly
                if self.node.context.ok():
                    raise
                return

    def close(self) -> Any:
        """Stop subscribing, write what is queued, close the bag. :return: final stats"""
        self._stop.set()
        self._thread.join(5.0)
        stats = self.recorder.close()
        self.topics.destroy()
        self._executor.shutdown(timeout_sec=1.0)
        self.node.destroy_node()
        return stats



def twin_topics(node: Node, config: Any) -> list[str]:
    """What the twin node records: its inputs, every output (and anything else under
    ``virtual/``) and ``/diagnostics``, as absolute names."""
    from twin_bridge.twin.node_config import INPUT_TOPICS, OUTPUT_TOPICS
    names = [node.resolve_topic_name(getattr(config, n))
             for n in (*INPUT_TOPICS, *OUTPUT_TOPICS) if getattr(config, n)]
    return [*names, node.resolve_topic_name('virtual') + '/*', '/diagnostics']


def recording_status(recording: NodeRecording, hardware_id: str) -> Any:
    """The ``twin_bridge: recording`` status (written, dropped per topic, write errors)."""
    from twin_bridge.ros.analysis_conversions import status_to_msg
    level, message, values = recording.recorder.stats().diagnostic()
    return status_to_msg('twin_bridge: recording', level, message, values, hardware_id)
