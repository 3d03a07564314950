"""The latency observer over real DDS: counts, latencies, trajectories, diagnostics, reset,
and the twin's analysis records (drift history, residuals, predicted paths)."""

import time

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from geometry_msgs.msg import PoseStamped
from nav_msgs.msg import Odometry, Path
import numpy as np
import pytest
from rclpy.qos import qos_profile_sensor_data
from ros_harness import spawn_node
from sensor_msgs.msg import LaserScan

from twin_bridge.ros.conversions import ns_to_time
from twin_bridge.ros.observer import (
    DecimatingBuffer,
    ObservedStream,
    ObserverSession,
    standard_streams,
)


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


def test_decimating_buffer_spans_the_whole_run_and_keeps_pinned_items():
    buffer = DecimatingBuffer(8)
    for i in range(100):
        buffer.add(i)
    items = buffer.items()
    assert len(items) <= 8 and items[0] == 0 and items[-1] == buffer.latest == 99
    assert set(np.diff(items[:-1])) == {buffer.stride}  # evenly spread, then the latest
    pinned = DecimatingBuffer(8)
    for i in range(100):
        pinned.add(i, pin=i == 37)
    assert 37 in pinned.items() and pinned.items()[0] == 0 and len(pinned) < 8
    crowded = DecimatingBuffer(8)  # pinned items alone: still bounded
    for i in range(100):
        crowded.add(i, pin=True)
    assert len(crowded) < 8 and crowded.items()[0] == 0 and crowded.items()[-1] == 99
    with pytest.raises(ValueError):
        DecimatingBuffer(2)


def test_observer_records_drift_history_residuals_and_predicted_paths():
    with ObserverSession({}, node_name='observer_analysis_test',
                         residual_topic='t/residual', predicted_path_topic='t/path') as obs:
        node = obs.node
        diag_pub = node.create_publisher(DiagnosticArray, '/diagnostics', 10)
        residual_pub = node.create_publisher(LaserScan, 't/residual', qos_profile_sensor_data)
        path_pub = node.create_publisher(Path, 't/path', 10)
        stamp_ns = time.time_ns()
        diag = DiagnosticArray(status=[
            DiagnosticStatus(name='twin drift: pose', level=b'\x02',
                             values=[KeyValue(key='dx', value='-0.05')]),
            DiagnosticStatus(name='twin_bridge: odom', level=b'\x00')])
        diag.header.stamp = ns_to_time(stamp_ns)
        residual = LaserScan(angle_min=-1.0, angle_increment=0.5,
                             ranges=[0.1, float('nan'), -0.2, 0.0, 0.3])
        residual.header.stamp = ns_to_time(stamp_ns)
        path = Path()
        path.header.stamp = ns_to_time(stamp_ns)
        for k in range(21):  # 0..1 s ahead, x = t
            pose = PoseStamped()
            pose.header.stamp = ns_to_time(stamp_ns + k * 50_000_000)
            pose.pose.position.x = k * 0.05
            path.poses.append(pose)

        def recorded() -> bool:
            for pub, msg in ((diag_pub, diag), (residual_pub, residual), (path_pub, path)):
                pub.publish(msg)
            return bool(node.status_history('twin drift: pose') and node.residuals()
                        and len(node.predictions()))
        assert obs.spin_until(recorded, 10.0)
        t, level, values = node.status_history('twin drift: pose')[0]
        assert t == pytest.approx(stamp_ns * 1e-9) and level == 2 and values == {'dx': '-0.05'}
        assert node.status_names() == ['twin drift: pose']  # only the drift statuses
        stamp, a0, da, ranges = node.residuals()[-1]
        assert (a0, da) == (-1.0, 0.5) and np.isnan(ranges[1])
        assert ranges[[0, 2, 4]] == pytest.approx([0.1, -0.2, 0.3])
        path_stamp, ahead, x, _ = node.predictions()[0]
        assert ahead - path_stamp == pytest.approx(1.0) and x == pytest.approx(1.0)
        stamp, points = node.predicted_paths()[-1]
        assert points.shape == (21, 3) and points[-1, 0] == pytest.approx(1.0)
