"""The twin_fleet node over real DDS: three robots in one twin, each mirrored under its
namespace, seeing each other in its scan (analytic ranges), one robot's bad messages counted
without disturbing the others, a clean Ctrl-C, and start-up errors naming robot and key."""

import signal

from diagnostic_msgs.msg import DiagnosticArray
from fleet_harness import NODE, REPLY_TIMEOUT, FleetRobots, expected_ranges, world_pose, write_fleet
import numpy as np
import pytest
from ros_harness import RosTestContext, spawn_node

from twin_bridge.core.transforms import yaw_from_quat

POSES = {'r1': (0.0, 0.0, 0.0), 'r2': (3.0, 0.0, 3.141592653589793), 'r3': (0.0, 2.5, -1.2)}


def test_three_robots_mirrored_seeing_each_other_bad_input_isolated(tmp_path):
    fleet = write_fleet(tmp_path / 'fleet.yaml', POSES)
    with RosTestContext('fleet_observer') as ros, spawn_node(
            NODE, params={'fleet_file': str(fleet), 'scan_rate': 10.0,
                          'diagnostics_period': 0.2}) as proc:
        robots = FleetRobots(ros, list(POSES))
        diags = ros.collect('/diagnostics', DiagnosticArray)
        robots.wait_ready([proc])
        # Each robot is mirrored in its own odometry frame, frames prefixed.
        odom = {'r1': (0.5, 0.2, 0.3), 'r2': (0.4, 0.0, 0.0), 'r3': (0.0, 0.0, 0.0)}
        stamps = {ns: robots.send_odom(ns, *pose) for ns, pose in odom.items()}
        for ns, (x, y, yaw) in odom.items():
            msg = robots.wait_for(robots.odom[ns], lambda m, s=stamps[ns]: (
                m.header.stamp.sec * 10**9 + m.header.stamp.nanosec == s), f'{ns} odom', [proc])
            p = msg.pose.pose
            assert (p.position.x, p.position.y) == pytest.approx((x, y), abs=1e-9)
            assert yaw_from_quat([p.orientation.x, p.orientation.y, p.orientation.z,
                                  p.orientation.w]) == pytest.approx(yaw, abs=1e-9)
            assert (msg.header.frame_id, msg.child_frame_id) == (f'{ns}/odom', f'{ns}/base_link')
        robots.send_joints('r3', ['pan_joint'], [0.4])
        msg = robots.wait_for(robots.joints['r3'], lambda m: len(m.name) > 0, 'r3 joints', [proc])
        assert dict(zip(msg.name, msg.position, strict=True))['pan_joint'] == 0.4
        # Scans: every robot sees the others' lidar cylinders where the mirrored poses put them.
        bases = {ns: world_pose(POSES[ns], odom[ns]) for ns in POSES}
        for ns in POSES:
            expected = expected_ranges(bases, ns)
            assert np.sum(np.isfinite(expected)) >= 2    # the others are in view

            def matches(m, expected=expected):
                ranges = np.asarray(m.ranges)
                return (np.array_equal(np.isfinite(ranges), np.isfinite(expected))
                        and np.allclose(ranges[np.isfinite(ranges)],
                                        expected[np.isfinite(expected)], atol=1e-3))
            scan = robots.wait_for(robots.scans[ns], matches, f'{ns} scan seeing the others',
                                   [proc])
            assert scan.header.frame_id == f'{ns}/lidar_link'
        # r2's bad messages are counted on r2; r1 and r3 go on being mirrored.
        for _ in range(3):
            robots.send_odom('r2', float('nan'), 0.0, 0.0)
            robots.send_joints('r2', ['no_such_joint'], [1.0])
        later = robots.send_odom('r1', 0.6, 0.2, 0.3)
        robots.wait_for(robots.odom['r1'], lambda m: (
            m.header.stamp.sec * 10**9 + m.header.stamp.nanosec == later), 'r1 after r2 bad',
            [proc])

        def status(name):
            for array in reversed(diags.messages):
                for st in array.status:
                    if st.name == name:
                        return {kv.key: kv.value for kv in st.values}
            return None

        def counted():
            s = status('r2/twin_fleet: odom')
            j = status('r2/twin_fleet: joint_states')
            return (s is not None and j is not None and s.get('rejected.non_finite') == '3'
                    and j.get('rejected.unknown_joint') == '3')
        assert ros.spin_until(counted, REPLY_TIMEOUT), (status('r2/twin_fleet: odom'),
                                                        proc.output()[-2000:])
        r1 = status('r1/twin_fleet: odom')
        assert r1['rejected'] == '0' and int(r1['accepted']) >= 2
        assert status('r3/twin_fleet: odom')['rejected'] == '0'
        # r2's twin kept its last good pose.
        assert robots.odom['r2'].last.pose.pose.position.x == pytest.approx(0.4)
        assert proc.stop(signal.SIGINT) == 0, proc.output()[-2000:]
    assert 'summary:' in proc.output()


def test_a_bad_fleet_file_stops_the_node_naming_robot_and_key(tmp_path):
    fleet = write_fleet(tmp_path / 'fleet.yaml', {'a': (0.0, 0.0, 0.0), 'b': (0.1, 0.0, 0.0)})
    with spawn_node(NODE, params={'fleet_file': str(fleet)}) as proc:
        assert proc.wait(60.0) == 1, proc.output()[-2000:]
    assert 'robot "b": key "pose": its start pose overlaps robot "a"' in proc.output()


def test_help_lists_the_parameters():
    with spawn_node(NODE, args=['--help']) as proc:
        assert proc.wait(30.0) == 0
    out = proc.output()
    for name in ('fleet_file', 'robots', 'shard', 'scan_rate', 'frame_prefix', 'lidar_noise'):
        assert name in out
