"""Tests for rollout_ensemble: batched physics rollouts against a plain mj_step loop, spread,
and the predicted contact with a wall."""

import math

import mujoco
import numpy as np
import pytest

from twin_bridge.core.state import JointStateSample, OdometrySample
from twin_bridge.description.robot_description import default_robot_path, load_robot_description
from twin_bridge.description.wheel_geometry import wheel_geometry
from twin_bridge.embedded.embedded_backend import EmbeddedBackend
from twin_bridge.embedded.rollout_ensemble import EnsembleNoise, RolloutEnsemble
from twin_bridge.errors import BackendError

QUIET = EnsembleNoise(0, 0, 0, 0, 0, 0, 0)
WALL_FACE_X = 0.5
CHASSIS_FRONT_X = 0.18  # urdf: chassis box 0.36 long, centred on base_link


@pytest.fixture(scope='module')
def robot():
    return load_robot_description(default_robot_path())


@pytest.fixture(scope='module')
def backend(robot):
    return EmbeddedBackend('empty', robot)


def _odom(v=0.5, w=0.0, x=0.0) -> OdometrySample:
    return OdometrySample(np.array([x, 0.0, 0.0]), np.array([0.0, 0.0, 0.0, 1.0]),
                          np.array([v, 0.0, 0.0]), np.array([0.0, 0.0, w]), stamp_ns=7)


def _wall_world() -> mujoco.MjSpec:
    spec = mujoco.MjSpec()
    spec.option.timestep = 0.001
    spec.worldbody.add_geom(name='floor', type=mujoco.mjtGeom.mjGEOM_PLANE, size=[0, 0, 1])
    spec.worldbody.add_geom(name='wall', type=mujoco.mjtGeom.mjGEOM_BOX,
                            size=[0.05, 2.0, 0.5], pos=[WALL_FACE_X + 0.05, 0.0, 0.5])
    return spec


def test_rollout_matches_a_python_mj_step_loop(backend, robot):
    with RolloutEnsemble(backend, wheel_geometry(robot), members=4, horizon=0.3,
                         seed=3) as ensemble:
        state = ensemble.initial_state(_odom(w=0.4))
        states, control = ensemble.perturbed_inputs(state, 0.5, 0.4)
        fast = ensemble.rollout(states, control)
        slow = ensemble.reference_rollout(states, control)
    assert fast.shape == (4, 30, ensemble.nstate)
    np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-12)
    # The members differ (noise), and all moved forward.
    assert np.ptp(fast[:, -1, 1]) > 0


def test_live_backend_untouched_and_seeded(backend, robot):
    backend.mirror(_odom(w=0.3), JointStateSample(('pan_joint',), np.array([0.2])))
    before = (backend.data.qpos.copy(), backend.data.qvel.copy())
    runs = []
    for _ in range(2):
        with RolloutEnsemble(backend, wheel_geometry(robot), members=8, horizon=0.2,
                             seed=11) as ensemble:
            runs.append(ensemble.predict_from_backend())
    np.testing.assert_array_equal(backend.data.qpos, before[0])
    np.testing.assert_array_equal(backend.data.qvel, before[1])
    np.testing.assert_array_equal(runs[0].member_x, runs[1].member_x)
    assert runs[0].stamp_ns == 0 and runs[0].times[-1] == pytest.approx(0.2)


def test_noise_free_ensemble_follows_the_twist(backend, robot):
    with RolloutEnsemble(backend, wheel_geometry(robot), members=2, noise=QUIET,
                         seed=0) as ensemble:
        p = ensemble.predict(_odom(v=0.5, w=0.5))
    assert p.stamp_ns == 7 and len(p.times) == 101
    assert np.all(p.covariance[-1] < 1e-18)
    # Exact arc: (v/w sin(w t), v/w (1 - cos(w t))); thin tyres keep the physics within 1 cm.
    exact = np.array([math.sin(0.5), 1 - math.cos(0.5)])
    assert np.hypot(*(np.array([p.x[-1], p.y[-1]]) - exact)) < 0.01
    assert p.yaw[-1] == pytest.approx(0.5, abs=0.02)
    assert p.contact is None and p.time_to_collision == math.inf
    assert p.collision_probability == 0.0


def test_spread_grows_with_the_injected_noise(backend, robot):
    spreads = []
    for scale in (0.5, 1.0, 2.0):
        noise = EnsembleNoise(linear_velocity=0.02 * scale, angular_velocity=0.04 * scale,
                              linear_acceleration=0, angular_acceleration=0, position=0,
                              yaw=0, friction=0)
        with RolloutEnsemble(backend, wheel_geometry(robot), members=64, noise=noise,
                             horizon=0.5, seed=5) as ensemble:
            p = ensemble.predict(_odom(v=0.4))
        spreads.append(np.sqrt(np.diag(p.covariance[-1])))
        # Forward spread ~ sigma_v * t, heading spread ~ sigma_w * t (+- sampling error).
        assert spreads[-1][0] == pytest.approx(0.02 * scale * 0.5, rel=0.3)
        assert spreads[-1][2] == pytest.approx(0.04 * scale * 0.5, rel=0.3)
        assert np.all(p.low[-1] < [p.x[-1], p.y[-1], p.yaw[-1]])
        assert np.all(p.high[-1] > [p.x[-1], p.y[-1], p.yaw[-1]])
    ratios = np.array(spreads[1:]) / np.array(spreads[:-1])
    np.testing.assert_allclose(ratios[:, [0, 2]], 2.0, rtol=0.05)


def test_contact_with_a_wall_at_the_hand_calculated_time(robot):
    backend = EmbeddedBackend(_wall_world(), robot)
    v = 0.5
    with RolloutEnsemble(backend, wheel_geometry(robot), members=3, noise=QUIET,
                         seed=0) as ensemble:
        p = ensemble.predict(_odom(v=v))
    expected = (WALL_FACE_X - CHASSIS_FRONT_X) / v  # 0.64 s
    assert p.contact is not None
    assert p.time_to_collision == pytest.approx(expected, abs=ensemble.timestep + 1e-9)
    assert p.contact.world_geom == 'wall' and p.contact.robot_geom
    assert p.contact.position[0] == pytest.approx(WALL_FACE_X, abs=0.01)
    assert p.collision_probability == 1.0
    np.testing.assert_allclose(p.member_contact_times, p.time_to_collision)
    # Driving away: nothing to hit.
    with RolloutEnsemble(backend, wheel_geometry(robot), members=3, noise=QUIET) as ensemble:
        assert ensemble.predict(_odom(v=-v)).contact is None


def test_bad_inputs(backend, robot):
    geometry = wheel_geometry(robot)
    with pytest.raises(BackendError):
        RolloutEnsemble(backend, geometry, members=0)
    with pytest.raises(BackendError):
        RolloutEnsemble(backend, geometry, horizon=-1.0)
    with pytest.raises(ValueError):
        EnsembleNoise(friction=-0.1)
    with RolloutEnsemble(backend, geometry, members=1, horizon=0.05) as ensemble:
        with pytest.raises(BackendError):
            ensemble.predict(_odom(v=math.nan))
        with pytest.raises(BackendError):
            ensemble.predict(_odom(), JointStateSample(('nope',), np.zeros(1)))
