"""FixedFrames: poses and twists of odometry expressed in links fixed to the root."""

import math
from pathlib import Path

import numpy as np

from twin_bridge.core.state import OdometrySample
from twin_bridge.core.transforms import Pose, quat_from_rpy
from twin_bridge.description.robot_description import parse_urdf
from twin_bridge.description.robot_frames import FixedFrames

URDF = (Path(__file__).parent / 'data' / 'robots' / 'footprint_bot.urdf').read_text()


def _root_state():
    return OdometrySample(np.array([1.0, 2.0, 0.15]), np.array([0.0, 0.0, 0.0, 1.0]),
                          np.array([0.4, 0.0, 0.0]), np.array([0.0, 0.0, 0.5]),
                          child_frame_id='base_link')


def test_express_in_a_fixed_link_pose_and_twist():
    frames = FixedFrames(parse_urdf(URDF))
    out = frames.express(_root_state(), 'base_footprint')
    assert out.child_frame_id == 'base_footprint'
    np.testing.assert_allclose(out.position, [1.1, 2.0, 0.0], atol=1e-12)
    s = math.sqrt(0.5)
    np.testing.assert_allclose(out.orientation, [0.0, 0.0, s, s], atol=1e-12)
    # footprint origin velocity: v + w x p = (0.4, 0.05, 0) in base_link, rotated by -90 deg
    np.testing.assert_allclose(out.linear_velocity, [0.05, -0.4, 0.0], atol=1e-12)
    np.testing.assert_allclose(out.angular_velocity, [0.0, 0.0, 0.5], atol=1e-12)


def test_to_root_inverts_express_for_any_pose():
    frames = FixedFrames(parse_urdf(URDF))
    state = OdometrySample(np.array([-3.0, 0.5, 0.2]), quat_from_rpy(0.1, -0.2, 2.0),
                           np.array([0.3, -0.1, 0.05]), np.array([0.02, 0.01, -0.7]),
                           child_frame_id='base_footprint')
    root = frames.to_root(state)
    assert root.child_frame_id == 'base_link'
    footprint_in_root = Pose.from_xyz_rpy((0.1, 0, -0.15), (0, 0, math.pi / 2))
    expected = Pose(state.position, state.orientation).compose(footprint_in_root.inverse())
    np.testing.assert_allclose(root.position, expected.position, atol=1e-12)
    np.testing.assert_allclose(root.orientation, expected.orientation, atol=1e-12)
    back = frames.express(root, 'base_footprint')
    for field in ('position', 'orientation', 'linear_velocity', 'angular_velocity'):
        np.testing.assert_allclose(getattr(back, field), getattr(state, field), atol=1e-12)


def test_moving_links_unknown_frames_and_no_robot_leave_the_state_unchanged():
    frames = FixedFrames(parse_urdf(URDF))
    assert frames.in_root('mast') is None and frames.in_root('nope') is None
    for frame in ('mast', 'nope'):
        state = OdometrySample(np.zeros(3), np.array([0, 0, 0, 1.0]), child_frame_id=frame)
        assert frames.to_root(state) is state
    state = _root_state()
    assert FixedFrames(None).to_root(state) is state


def test_only_links_of_the_robot_are_remembered():
    frames = FixedFrames(parse_urdf(URDF))
    for i in range(100):
        assert frames.in_root(f'frame_{i}' + 'x' * 1000) is None
        assert not frames.is_link(f'frame_{i}')
    assert frames.in_root('base_footprint') is not None and frames.is_link('mast')
    assert set(frames._cache) <= set(parse_urdf(URDF).links)
    assert frames.root_link == 'base_link' and FixedFrames(None).root_link is None
