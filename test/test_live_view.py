"""The live view over a real Foxglove WebSocket connection: scene and scans arrive."""

from __future__ import annotations

from foxglove_client import FoxgloveClient
import numpy as np
import pytest

from twin_bridge.core.state import OdometrySample
from twin_bridge.twin.digital_twin import DigitalTwin
from twin_bridge.twin.live_view import TOPICS, LiveView


@pytest.fixture()
def view():
    twin = DigitalTwin('warehouse')
    odom = OdometrySample(np.array([1.0, 0.5, 0.0]), np.array([0.0, 0.0, 0.0, 1.0]),
                          linear_velocity=np.array([0.3, 0.0, 0.0]), stamp_ns=1_000)
    twin.update(odometry=odom, wall_ns=1_000)
    live = LiveView(twin, port=0, rate_hz=20.0, world_period=0.2)
    live.show_physical_odometry(odom)
    scan = twin.backend.scan()
    live.show_virtual_scan(scan, stamp_ns=2_000)
    live.show_physical_scan(scan)
    live.start()
    yield live, twin, scan
    live.close()
    twin.close()


def test_client_receives_world_robot_poses_and_scans(view) -> None:
    live, twin, scan = view
    client = FoxgloveClient(live.port)
    try:
        topics = [TOPICS.world, TOPICS.robot, TOPICS.virtual_pose, TOPICS.physical_pose,
                  TOPICS.virtual_scan, TOPICS.physical_scan]
        client.wait_for_channels(topics)
        assert client.channels[TOPICS.world]['schemaName'] == 'foxglove.SceneUpdate'
        assert client.channels[TOPICS.virtual_scan]['schemaName'] == 'foxglove.LaserScan'
        client.subscribe(topics)
        got = client.receive(set(topics))
    finally:
        client.close()
    world = got[TOPICS.world].entities[0]
    assert world.id == 'world' and len(world.cubes) == len(
        [s for s in live.geometry.world_shapes if s.kind == 6])
    robot = {e.id: e for e in got[TOPICS.robot].entities}
    assert {'robot', 'predicted_path'} <= set(robot)
    assert len(robot['predicted_path'].lines[0].points) > 2
    assert robot['predicted_path'].lines[0].points[-1].x > 1.0  # driving ahead at 0.3 m/s
    assert got[TOPICS.virtual_pose].pose.position.x == pytest.approx(1.0)
    assert got[TOPICS.physical_pose].pose.position.y == pytest.approx(0.5)
    virtual = got[TOPICS.virtual_scan]
    assert len(virtual.ranges) == len(scan.ranges)
    finite = np.isfinite(scan.ranges)
    np.testing.assert_allclose(np.array(virtual.ranges)[finite], scan.ranges[finite], rtol=1e-6)
    assert virtual.timestamp.nanos == 2_000
