"""Locked joints: a revolute or prismatic joint whose ``<lower>`` equals its ``<upper>``.

Valid SDF, and Gazebo holds such a joint at that position; MuJoCo refuses a joint range of zero
width. The twin welds the child to its parent instead (a fixed joint), with the child and
everything it carries moved to the locked position first.
"""

from __future__ import annotations

from dataclasses import replace
import math
from typing import TYPE_CHECKING

import numpy as np

from twin_bridge.core.transforms import Pose, rotate

if TYPE_CHECKING:
    from twin_bridge.description.sdf_links import Link
    from twin_bridge.description.sdf_world import Joint

__all__ = ['lock_joints']


def _motion(joint: Joint) -> Pose:
    """The world transform that moves the child of ``joint`` from position 0 to the lock."""
    value = float(joint.lower)
    axis = np.asarray(joint.axis, dtype=float)
    if joint.type == 'prismatic':
        return Pose(value * axis, np.array([0.0, 0.0, 0.0, 1.0]))
    half = value / 2
    turn = Pose(np.zeros(3), np.array([*(math.sin(half) * axis), math.cos(half)]))
    at = Pose(np.asarray(joint.pose.position, dtype=float), np.array([0.0, 0.0, 0.0, 1.0]))
    return at.compose(turn).compose(at.inverse())


def lock_joints(links: list[Link], joints: list[Joint]) -> tuple[list[Link], list[Joint]]:
    """``links`` and ``joints`` with every locked joint made fixed at its locked position."""
    locked = [j for j in joints if j.type in ('revolute', 'prismatic') and j.lower is not None
              and j.lower == j.upper]
    if not locked:
        return links, joints
    carried: dict[str, list[str]] = {}
    for joint in joints:
        carried.setdefault(joint.parent, []).append(joint.child)
    by_link = {link.name: link for link in links}
    by_name = {joint.name: joint for joint in joints}
    by_child = {joint.child: joint.name for joint in joints}

    def depth(joint: Joint) -> int:
        count, link = 0, joint.parent
        while link in by_child:
            count, link = count + 1, by_name[by_child[link]].parent
        return count

    for lock in sorted(locked, key=depth):
        joint = by_name[lock.name]
        by_name[joint.name] = replace(joint, type='fixed', lower=None, upper=None)
        if joint.lower == 0.0:
            continue
        motion = _motion(joint)
        todo = [joint.child]
        while todo:
            name = todo.pop()
            link = by_link[name]
            by_link[name] = replace(link, pose=motion.compose(link.pose))
            for child in carried.get(name, ()):
                inner = by_name[by_child[child]]
                by_name[inner.name] = replace(
                    inner, pose=motion.compose(inner.pose),
                    axis=tuple(float(v) for v in rotate(motion.orientation,
                                                        np.asarray(inner.axis))))
                todo.append(child)
    return ([by_link[link.name] for link in links], [by_name[joint.name] for joint in joints])
