"""A world's saved ``<state>``: the model poses Gazebo applies when it loads the world."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from twin_bridge.core.transforms import Pose
from twin_bridge.description.sdf_elements import ElementContext, ParseState, read_pose

__all__ = ['read_state_poses']

# State children that only record the time or a motion snapshot (velocities, accelerations,
# wrenches): nothing to apply to a twin's start pose.
_INFORMATIONAL = ('sim_time', 'wall_time', 'real_time', 'iterations', 'light')


def read_state_poses(world: ET.Element, ctx: ElementContext,
                     state: ParseState) -> dict[str, Pose]:
    """World poses of the top-level models a ``<state>`` moves (the last ``<state>`` wins, as
    each saved state overrides the previous one).

    Gazebo (classic, whose saved worlds carry these) places the models there on load; the
    twin does the same. What a state holds besides model poses (link poses, joint positions,
    inserted or deleted models) is listed in ``state.ignored``.
    """
    poses: dict[str, Pose] = {}
    for saved in world.findall('state'):
        sctx = ctx.child(saved)
        for child in saved:
            cctx = sctx.child(child)
            if child.tag == 'model':
                name = (child.get('name') or '').strip()
                if child.find('pose') is not None and name:
                    poses[name] = read_pose(child.find('pose'), cctx)[0]
                for extra in child:
                    if extra.tag in ('link', 'joint', 'model'):
                        state.ignore(sctx.child(child).child(extra),
                                     f'saved <{extra.tag}> state (the model is placed at the '
                                     'state\'s <pose>, its parts as the model file says)')
                        break
            elif child.tag not in _INFORMATIONAL:
                state.ignore(cctx, f'saved <{child.tag}> in <state> is not applied')
    return poses
