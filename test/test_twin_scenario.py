"""The launch tests' scenario, run here over real processes (no launch / launch_testing).

The twin node runs as its own process with exactly the parameters embedded_twin.launch.py
gives it (params file + launch_support overrides), in a namespace; this test process is the
physical robot, as in test/test_embedded_twin_launch.py.
"""

from pathlib import Path
import unittest

from rclpy.node import Node
from ros_harness import RosTestContext, spawn_node, write_params_file
from twin_scenario import check_scenario, run_scenario

from twin_bridge.gazebo.launch_support import resolve_world, twin_node_overrides

REPO = Path(__file__).resolve().parent.parent
NAMESPACE = 'robot1'


def test_embedded_twin_scenario_over_real_processes(tmp_path):
    overrides = twin_node_overrides(backend='embedded', world=resolve_world('warehouse'))
    params = write_params_file(tmp_path / 'overrides.yaml', '/**', overrides)
    with RosTestContext('scenario') as ros, spawn_node(
            'twin_bridge.ros.bridge_node', ros_args=[
                '-r', f'__ns:=/{NAMESPACE}',
                '--params-file', str(REPO / 'config' / 'twin_bridge.yaml')],
            params_file=params) as proc:
        robot = Node('physical_robot_stand_in', namespace=NAMESPACE, context=ros.context)
        ros.executor.add_node(robot)
        try:
            result = run_scenario(robot, ros.executor, settle=1.0, duration=2.0,
                                  startup_timeout=60.0)
        finally:
            ros.executor.remove_node(robot)
            robot.destroy_node()
        case = unittest.TestCase()
        try:
            check_scenario(case, result, latency_p95=0.050, joint_tolerance=1e-6,
                           pose_tolerance=1e-6, min_scan_rate=16.0)
        except AssertionError as exc:
            raise AssertionError(f'{exc}\n--- twin node output ---\n{proc.output()}') from None
        assert proc.stop() == 0, proc.output()
