"""The latency observer over real DDS: counts, latencies, trajectories, diagnostics, reset."""

import time

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from nav_msgs.msg import Odometry
from ros_harness import spawn_node

from twin_bridge.ros.conversions import ns_to_time
from twin_bridge.ros.observer import ObservedStream, ObserverSession, standard_streams


def test_observer_records_latency_trajectory_and_diagnostics():
    streams = {k: v for k, v in standard_streams().items() if k.startswith('physical/')}
    streams['late/odom'] = ObservedStream('late/odom', Odometry, 10, trajectory=True)
    with spawn_node('twin_bridge.ros.physical_sim_node',
                    params={'joint_states_rate': 200.0, 'odom_rate': 50.0}) as proc, \
            ObserverSession(streams, node_name='observer_under_test') as obs:
        node = obs.node
        diag_pub = node.create_publisher(DiagnosticArray, '/diagnostics', 10)
        late_pub = node.create_publisher(Odometry, 'late/odom', 10)
        assert obs.spin_until(lambda: node.count('physical/odom') > 0, 20.0,
                              abort=lambda: not proc.running()), proc.output()
        node.reset()
        assert node.count('physical/joint_states') == 0
        obs.spin_for(1.5)
        js = node.stats('physical/joint_states').summary()
        assert 200 <= js.count <= 330 and 180 < js.rate_hz < 220
        assert 0.0 < js.p50 < 0.05
        path = node.trajectory('physical/odom')
        assert path.shape[1] == 4 and len(path) >= 60
        assert (path[:, 0] >= path[:, 1]).all()  # received after it was stamped

        # A message stamped 0.25 s ago shows 0.25 s of latency; diagnostics are kept by name.
        msg = Odometry()
        msg.header.stamp = ns_to_time(time.time_ns() - 250_000_000)
        msg.pose.pose.position.x = 1.5
        status = DiagnosticStatus(name='twin_bridge: joint_states', message='ok',
                                  level=b'\x01', values=[KeyValue(key='rejected', value='4')])
        assert obs.spin_until(
            lambda: (late_pub.publish(msg), diag_pub.publish(DiagnosticArray(status=[status])),
                     node.count('late/odom') > 0 and node.diagnostics)[-1], 10.0)
        latency, _ = node.stats('late/odom').window()
        assert 0.25 <= latency[0] < 0.4
        assert node.trajectory('late/odom')[0, 2] == 1.5
        diag = node.diagnostics['twin_bridge: joint_states']
        assert diag == {'level': 1, 'message': 'ok', 'values': {'rejected': '4'}}


def test_only_messages_stamped_inside_the_measurement_are_recorded():
    """Outputs of inputs sent before the measurement (or after it) do not count."""
    streams = {'x/odom': ObservedStream('x/odom', Odometry, 50, trajectory=True)}
    with ObserverSession(streams, node_name='observer_window_test',
                         diagnostics_topic=None) as obs:
        node = obs.node
        pub = node.create_publisher(Odometry, 'x/odom', 50)

        def send(stamp_ns: int, x: float) -> None:
            msg = Odometry()
            msg.header.stamp = ns_to_time(stamp_ns)
            msg.pose.pose.position.x = x
            pub.publish(msg)

        def total() -> int:
            return node.count('x/odom') + node.dropped('x/odom')

        assert obs.spin_until(lambda: (send(time.time_ns(), 0.0), node.count('x/odom'))[-1],
                              10.0)
        # The connection is up. A marker after the loop's messages (one reliable connection,
        # in order): once it is in, every message of the loop above has arrived.
        send(time.time_ns(), -1.0)
        assert obs.spin_until(lambda: node.trajectory('x/odom')[-1, 2] == -1.0, 5.0)
        start = time.time_ns()
        node.reset(stamped_from_ns=start)
        assert node.count('x/odom') == 0 and node.dropped('x/odom') == 0
        send(start - 1_000_000_000, 1.0)  # a backlog sample: stamped before the start
        send(start + 1, 2.0)  # inside
        assert obs.spin_until(lambda: total() >= 2, 5.0)
        assert (node.count('x/odom'), node.dropped('x/odom')) == (1, 1)
        assert node.trajectory('x/odom')[:, 2].tolist() == [2.0]
        latency, _ = node.stats('x/odom').window()
        assert latency.max() < 0.5  # the 1 s old sample is not in the latency record
        end = time.time_ns()
        node.end_measurement(end)
        send(end, 3.0)  # stamped at the end: outside
        send(end - 1, 4.0)  # in flight from inside the measurement: still counts
        assert obs.spin_until(lambda: total() >= 4, 5.0)
        assert (node.count('x/odom'), node.dropped('x/odom')) == (2, 2)
        assert node.trajectory('x/odom')[:, 2].tolist() == [2.0, 4.0]
        node.reset()  # no bounds: everything counts again
        send(start - 5_000_000_000, 5.0)
        assert obs.spin_until(lambda: node.count('x/odom') == 1, 5.0)
