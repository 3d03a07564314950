"""ObstacleShifter (array edits of a compiled model) against world_edits.move_body + compile."""

import mujoco
import numpy as np
import pytest
from scan_room import ROOM, SEARCH

from twin_bridge.core.state import OdometrySample
from twin_bridge.description.robot_description import default_robot_path, load_robot_description
from twin_bridge.embedded.beam_caster import BeamCaster
from twin_bridge.embedded.embedded_backend import EmbeddedBackend
from twin_bridge.embedded.mujoco_world import load_world_spec
from twin_bridge.embedded.world_edits import move_body
from twin_bridge.errors import ConfigError
from twin_bridge.learning.obstacle_shift import ObstacleShifter
from twin_bridge.scenarios.physical import RobotContacts

ANGLES = np.linspace(-np.pi, np.pi, 720, endpoint=False)


@pytest.fixture(scope='module')
def robot():
    return load_robot_description(default_robot_path())


def _backend(robot, shifts=None):
    spec, _ = load_world_spec(ROOM, search_path=SEARCH)
    for name, (dx, dy) in (shifts or {}).items():
        move_body(spec, name, dx, dy)
    return EmbeddedBackend(spec, robot, lidar_noise=False)


@pytest.mark.parametrize('shifts', [
    {'cube': (0.3, -0.2), 'slim_pillar': (-0.4, 0.1)},   # a free body and a static include
    {'room::pillar': (0.5, 0.5)},                          # one link of a model
])
def test_shifted_casts_and_clearances_match_a_recompiled_world(robot, shifts):
    fast = _backend(robot)
    shifter = ObstacleShifter(fast.model, list(shifts))
    shifter.apply(fast.model, fast.data.qpos, {n: (9.0, 9.0) for n in shifts})  # then back:
    shifter.apply(fast.model, fast.data.qpos, shifts)  # shifts never accumulate
    caster_fast = BeamCaster(fast.model, fast.model.qpos0.copy())
    slow = _backend(robot, shifts)
    caster_slow = BeamCaster.from_backend(slow)
    origin = np.array([0.0, 0.5, 0.3])
    a, b = caster_fast.cast(origin, 0.2, ANGLES), caster_slow.cast(origin, 0.2, ANGLES)
    np.testing.assert_allclose(a.ranges, b.ranges, atol=1e-9)
    np.testing.assert_array_equal(a.geom_ids, b.geom_ids)
    unshifted = BeamCaster.from_backend(_backend(robot)).cast(origin, 0.2, ANGLES)
    assert np.max(np.abs(unshifted.ranges - a.ranges)) > 0.1  # the shift is visible
    for x, y in ((-1.4, 1.4), (-2.0, -0.9), (1.9, 2.1)):
        clear = []
        for backend in (fast, slow):
            backend.mirror(OdometrySample(np.array([x, y, 0.0]), np.array([0, 0, 0, 1.0])))
            mujoco.mj_kinematics(backend.model, backend.data)
            clear.append(RobotContacts(backend).clearance())
        assert clear[0] == pytest.approx(clear[1], abs=1e-9)


def test_an_unknown_obstacle_lists_the_models(robot):
    with pytest.raises(ConfigError, match="no obstacle 'shelf'.*cube.*slim_pillar"):
        ObstacleShifter(_backend(robot).model, ['shelf'])
    shifter = ObstacleShifter(_backend(robot).model, ['cube'])
    with pytest.raises(ConfigError, match='unknown obstacle'):
        shifter.apply(_backend(robot).model, None, {'box': (1.0, 0.0)})
