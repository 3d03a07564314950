"""Tests for twin_bridge.mujoco_world: SDF world -> MuJoCo spec, and ray casts against it."""

from pathlib import Path

import mujoco
import numpy as np
import pytest

from twin_bridge.mujoco_world import WORLD_GEOM_GROUP, load_world_spec

DATA = Path(__file__).resolve().parent / 'data' / 'worlds'
MODELS = [DATA / 'models']


def _compiled(name: str):
    spec, world = load_world_spec(DATA / name, search_path=MODELS)
    model = spec.compile()
    data = mujoco.MjData(model)
    mujoco.mj_kinematics(model, data)
    return model, data, world


def test_static_geoms_on_world_body_and_dynamic_bodies_free():
    model, _, world = _compiled('basic.sdf')
    assert model.nbody == 1 + sum(not link.static for link in world.links)
    for link in world.links:
        for collision in link.collisions:
            gid = model.geom(collision.name).id
            body = model.geom_bodyid[gid]
            if link.static:
                assert body == 0
            else:
                assert model.body(body).name == link.name
                jnt = model.body_jntadr[body]
                assert model.body_jntnum[body] == 1
                assert model.jnt_type[jnt] == mujoco.mjtJoint.mjJNT_FREE
    assert set(model.geom_group) == {WORLD_GEOM_GROUP}
    # Include override: crate_b is static, crate_a keeps the model's dynamic default.
    assert world.link('crate_b::link').static and not world.link('crate_a::link').static
    assert model.body('crate_a::link').mass[0] == pytest.approx(5.0)


def test_physics_options_read():
    model, _, world = _compiled('basic.sdf')
    assert world.max_step_size == pytest.approx(0.004)
    assert model.opt.timestep == pytest.approx(0.004)
    np.testing.assert_allclose(model.opt.gravity, [0, 0, -9.81])


def test_ray_hits_wall_and_rotated_pillar_at_analytic_distance():
    model, data, _ = _compiled('basic.sdf')
    geomid = np.array([-1], dtype=np.int32)
    origin = np.array([0.0, 0.0, 0.5])
    # Wall: box 0.2 thick centred at x=3 -> near face at x=2.9.
    dist = mujoco.mj_ray(model, data, origin, np.array([1.0, 0, 0]), None, 1, -1, geomid)
    assert abs(dist - 2.9) < 1e-3
    assert model.geom(geomid[0]).name == 'wall::link::collision'
    # Pillar: model yawed 90 deg, collision offset 1 m along link x -> centre (0, -1), r 0.25.
    dist = mujoco.mj_ray(model, data, origin, np.array([0, -1.0, 0]), None, 1, -1, geomid)
    assert abs(dist - 0.75) < 1e-3
    assert model.geom(geomid[0]).name == 'pillar::link::collision'
