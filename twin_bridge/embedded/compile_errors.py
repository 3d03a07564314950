"""MuJoCo compile errors turned into one sentence naming the file and element at fault."""

from __future__ import annotations

import re

from twin_bridge.description.robot_description import RobotDescription
from twin_bridge.description.sdf_world import WorldDescription

__all__ = ['describe_compile_error']

# MuJoCo: "Error: <what> in <kind>\nElement name '<name>', id <n>".
_ELEMENT = re.compile(r"Element name '([^']*)'")
_KIND = re.compile(r' in (body|joint|geom|mesh|site|actuator|equality)\b')


def _world_sources(world: WorldDescription) -> dict[str, str]:
    """Scoped name -> ``file: element path`` of every link, joint and collision of ``world``
    (MuJoCo bodies, joints and geoms carry these names)."""
    sources = {link.name: link.source for link in world.links}
    sources.update({joint.name: joint.source for joint in world.joints})
    for link in world.links:
        sources.update({c.name: c.source for c in link.collisions})
    return sources


def describe_compile_error(message: str, *, world: WorldDescription | None,
                           robot: RobotDescription, robot_prefix: str) -> str:
    """``message`` (MuJoCo's) as ``<file>: <element>: <what>; <what to do>``.

    The element is found by the name MuJoCo reports: a robot element (``robot_prefix`` +
    URDF link or joint name) names the robot's file, a world element its SDF file and path.
    """
    text = message.strip()
    what = text.splitlines()[0].removeprefix('Error: ').strip() if text else 'unknown error'
    match = _ELEMENT.search(text)
    kind_match = _KIND.search(what)
    kind = kind_match.group(1) if kind_match else 'element'
    if kind_match:
        what = what[:kind_match.start()] + what[kind_match.end():]
    name = match.group(1) if match else ''
    if world is None or (name and name.startswith(robot_prefix)):
        local = name[len(robot_prefix):] if name.startswith(robot_prefix) else name
        element = f' {kind} "{local}":' if local else ''
        return (f'{robot.source}: MuJoCo cannot compile the robot "{robot.name}":{element} '
                f'{what}; fix that element of the robot description')
    source = _world_sources(world).get(name) if name else None
    if source is not None:
        return (f'{source}: MuJoCo cannot compile this {kind}: {what}; fix the element in the '
                'world file')
    where = str(world.path)
    element = f' {kind} "{name}"' if name else ''
    return (f'{where}:{element} MuJoCo cannot compile the world with robot "{robot.name}" '
            f'({robot.source}): {what}')
