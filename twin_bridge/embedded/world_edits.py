"""Edits of a world's ``MjSpec`` before it is compiled: moving an obstacle."""

from __future__ import annotations

import mujoco
import numpy as np

from twin_bridge.errors import ConfigError

__all__ = ['move_body', 'world_scopes']


def _matches(element_name: str, name: str) -> bool:
    return element_name == name or element_name.startswith(name + '::')


def world_scopes(spec: mujoco.MjSpec) -> list[str]:
    """Names :func:`move_body` accepts at the top level: the models (``shelf_hall_0``) of the
    world's geoms and top-level bodies, sorted."""
    names = [g.name for g in spec.worldbody.geoms] + [b.name for b in spec.worldbody.bodies]
    return sorted({n.split('::', 1)[0] for n in names if n})


def move_body(spec: mujoco.MjSpec, name: str, dx: float, dy: float) -> mujoco.MjSpec:
    """Shift a world obstacle by ``(dx, dy)`` m in the world frame; return ``spec`` (edited).

    ``name`` is a model (``shelf_hall_0``), a scoped link (``box_0::link``) or a collision
    (``outer_walls::link::north``), as :func:`twin_bridge.embedded.mujoco_world.build_world_spec`
    names them: every static geom on the world body and every top-level body (a dynamic link,
    which carries its children) in that scope moves. A body's free joint starts at the moved
    pose. Call before ``compile()``.

    :raise ConfigError: nothing in the world is called ``name`` (the message lists the models)
    """
    shift = np.array([float(dx), float(dy), 0.0])
    if not np.all(np.isfinite(shift)):
        raise ConfigError(f'move {name!r}: dx, dy must be finite, got {dx!r}, {dy!r}')
    geoms = [g for g in spec.worldbody.geoms if _matches(g.name, name)]
    bodies = [b for b in spec.worldbody.bodies if _matches(b.name, name)]
    if not geoms and not bodies:
        raise ConfigError(f'no obstacle {name!r} in world {spec.modelname!r}; its models: '
                          f'{", ".join(world_scopes(spec))}')
    for element in (*geoms, *bodies):
        element.pos = np.asarray(element.pos, dtype=float) + shift
    return spec
