"""One fleet file run as three twin_fleet shard processes over real DDS: each serves its own
robot, and places the other shards' robots in its world from their virtual/odom, so robot r0
(shard 0) sees robot r2 (shard 2) where r2's odometry put it."""

from fleet_harness import NODE, FleetRobots, expected_ranges, world_pose, write_fleet
import numpy as np
from ros_harness import RosTestContext, spawn_node

POSES = {'r0': (0.0, 0.0, 0.0), 'r1': (0.0, 3.0, 0.0), 'r2': (3.0, 0.0, 3.141592653589793)}


def test_three_shards_see_each_others_robots(tmp_path):
    fleet = write_fleet(tmp_path / 'fleet.yaml', POSES)
    params = {'fleet_file': str(fleet), 'scan_rate': 10.0}
    with RosTestContext('shard_observer') as ros, \
            spawn_node(NODE, params={**params, 'shard': '0/3'}) as s0, \
            spawn_node(NODE, params={**params, 'shard': '1/3'}) as s1, \
            spawn_node(NODE, params={**params, 'shard': '2/3'}) as s2:
        procs = [s0, s1, s2]
        robots = FleetRobots(ros, list(POSES))
        robots.wait_ready(procs)
        for ns in POSES:   # each robot's twin is published by exactly one shard
            assert ros.node.count_publishers(f'/{ns}/virtual/scan') == 1
        # r2 drives 1.2 m towards r0 and 0.5 m to its side (its odometry frame faces -x).
        odom = {'r0': (0.0, 0.0, 0.0), 'r1': (0.3, 0.0, 0.0), 'r2': (1.2, 0.5, 0.0)}
        bases = {ns: world_pose(POSES[ns], odom[ns]) for ns in POSES}
        expected = expected_ranges(bases, 'r0')
        at_start = expected_ranges({ns: world_pose(POSES[ns], (0, 0, 0)) for ns in POSES}, 'r0')
        assert not np.array_equal(np.isfinite(expected), np.isfinite(at_start))

        def send():
            for ns, pose in odom.items():
                robots.send_odom(ns, *pose)

        def sees_the_others(m):
            ranges = np.asarray(m.ranges)
            return (np.array_equal(np.isfinite(ranges), np.isfinite(expected))
                    and np.allclose(ranges[np.isfinite(ranges)],
                                    expected[np.isfinite(expected)], atol=1e-3))
        robots.wait_for(robots.scans['r0'], sees_the_others,
                        "r0's scan (shard 0) with r1 (shard 1) and r2 (shard 2) where their "
                        'odometry put them', procs, keep_sending=send)
        for proc in procs:
            assert proc.stop() == 0, proc.output()[-2000:]
