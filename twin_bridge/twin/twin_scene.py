"""The geometry of a twin's embedded model, for what draws it (live view, world markers)."""

from __future__ import annotations

import mujoco

from twin_bridge.embedded.embedded_backend import ROBOT_PREFIX, EmbeddedBackend
from twin_bridge.embedded.scene_geometry import SceneGeometry
from twin_bridge.twin.digital_twin import DigitalTwin

__all__ = ['embedded_model', 'scene_geometry']


def embedded_model(twin: DigitalTwin) -> EmbeddedBackend | None:
    """The twin's embedded model: its judge (rendering backends), else its backend."""
    if twin.judge is not None:
        return twin.judge
    return twin.backend if isinstance(twin.backend, EmbeddedBackend) else None


def scene_geometry(twin: DigitalTwin) -> SceneGeometry | None:
    """The collision geometry of the twin's world and robot, from its embedded model
    (``None`` without one)."""
    model = embedded_model(twin)
    if model is None:
        return None
    data = mujoco.MjData(model.model)
    mujoco.mj_kinematics(model.model, data)
    root = model.model.body(ROBOT_PREFIX + twin.robot.root_link).id
    return SceneGeometry(model.model, data, root)
