"""Pose and quaternion helpers against independent constructions."""

import numpy as np
import pytest

from twin_bridge.core.transforms import (
    Pose,
    quat_from_rpy,
    quat_multiply,
    quat_to_matrix,
    quat_wxyz_to_xyzw,
    quat_xyzw_to_wxyz,
    rotate,
    yaw_from_quat,
)


def _rx(a):
    c, s = np.cos(a), np.sin(a)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


def _ry(a):
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


def _rz(a):
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


@pytest.mark.parametrize('rpy', [(0, 0, 0), (0.3, -0.2, 1.1), (np.pi / 2, 0.1, -2.5),
                                 (-1.0, 1.2, 3.0)])
def test_rpy_matches_fixed_axis_rotation(rpy):
    q = quat_from_rpy(*rpy)
    assert np.linalg.norm(q) == pytest.approx(1.0)
    expected = _rz(rpy[2]) @ _ry(rpy[1]) @ _rx(rpy[0])
    np.testing.assert_allclose(quat_to_matrix(q), expected, atol=1e-12)


def test_multiply_is_matrix_product():
    a, b = quat_from_rpy(0.1, 0.2, 0.3), quat_from_rpy(-0.5, 0.4, 2.0)
    np.testing.assert_allclose(quat_to_matrix(quat_multiply(a, b)),
                               quat_to_matrix(a) @ quat_to_matrix(b), atol=1e-12)


def test_pose_compose_and_inverse():
    a = Pose.from_xyz_rpy((1, 2, 3), (0.1, -0.3, 0.7))
    b = Pose.from_xyz_rpy((-0.5, 0.2, 0.0), (0.0, 0.2, -1.2))
    np.testing.assert_allclose(a.compose(b).matrix(), a.matrix() @ b.matrix(), atol=1e-12)
    np.testing.assert_allclose(a.compose(a.inverse()).matrix(), np.eye(4), atol=1e-12)


def test_order_conversions_and_yaw():
    q = quat_from_rpy(0, 0, 0.75)
    np.testing.assert_allclose(quat_wxyz_to_xyzw(quat_xyzw_to_wxyz(q)), q)
    assert quat_xyzw_to_wxyz(q)[0] == pytest.approx(q[3])
    assert yaw_from_quat(q) == pytest.approx(0.75)
    np.testing.assert_allclose(rotate(q, [1, 0, 0]), [np.cos(0.75), np.sin(0.75), 0], atol=1e-12)
