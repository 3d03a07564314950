"""An SDF ``<model>`` as a robot: converted to the URDF the rest of the twin reads.

TurtleBot3's Jazzy Gazebo models (``turtlebot3_gazebo/models/<robot>/model.sdf``) keep the
lidar there, not in the URDF. The model file is read with the world loader (frames, nested
models, includes, locked joints, mesh URIs resolved as Gazebo does) and written as URDF:
each link keeps its SDF frame (a joint whose frame is away from its child link's origin moves
that link's URDF frame to the joint, its contents shifted to stay put, with a warning), joint
axes are expressed in the child link, collisions and visuals keep their shapes (a capsule
becomes a cylinder and two spheres), the model's sensors go into ``<gazebo reference>``
tags and its plugins into ``<gazebo>`` (the diff-drive plugin names the wheel joints).
"""

from __future__ import annotations

import logging
from pathlib import Path
import xml.etree.ElementTree as ET

import numpy as np

from twin_bridge.core.transforms import Pose, quat_to_matrix
from twin_bridge.description.resources import model_search_path, resolve_uri
from twin_bridge.description.sdf_elements import read_text, read_xml
from twin_bridge.description.sdf_geometry import Geometry
from twin_bridge.description.sdf_pose import sdf_pose
from twin_bridge.description.sdf_world import Joint, Link, parse_world
from twin_bridge.errors import RobotDescriptionError, TwinBridgeError

__all__ = ['is_sdf_file', 'sdf_model_urdf']

LOGGER = logging.getLogger('twin_bridge.description.robot_description')
# A prismatic SDF joint without limits (URDF requires them).
_FAR = 1e9


def is_sdf_file(path: Path) -> bool:
    """Whether ``path`` holds SDF (an ``.sdf`` file, or a root ``<sdf>`` element)."""
    if path.suffix.lower() == '.sdf':
        return True
    try:
        head = path.read_text(encoding='utf-8', errors='replace')[:4096]
    except OSError:
        return False
    return '<sdf' in head and '<robot' not in head


def _rpy(orientation: np.ndarray) -> tuple[float, float, float]:
    """Roll, pitch, yaw (URDF's fixed-axis X-Y-Z) of an ``(x, y, z, w)`` quaternion."""
    m = quat_to_matrix(np.asarray(orientation, dtype=float))
    pitch = float(np.arcsin(np.clip(-m[2, 0], -1.0, 1.0)))
    if abs(m[2, 0]) < 1 - 1e-12:
        return float(np.arctan2(m[2, 1], m[2, 2])), pitch, float(np.arctan2(m[1, 0], m[0, 0]))
    return 0.0, pitch, float(np.arctan2(-m[0, 1], m[1, 1]))


def _origin(parent: ET.Element, pose: Pose) -> None:
    ET.SubElement(parent, 'origin', xyz=' '.join(f'{v:.12g}' for v in pose.position),
                  rpy=' '.join(f'{v:.12g}' for v in _rpy(pose.orientation)))


def _geometry(parent: ET.Element, tag: str, name: str, pose: Pose, geometry: Geometry,
              skipped: list[str]) -> None:
    """A URDF ``<collision>``/``<visual>`` of ``geometry`` at ``pose`` (in the link frame)."""
    kind, size = geometry.kind, geometry.size
    if kind == 'capsule':  # exactly a cylinder and a sphere on each end
        radius, length = size
        _geometry(parent, tag, name, pose, Geometry('cylinder', (radius, length)), skipped)
        for end in (-1, 1):
            cap = pose.compose(Pose(np.array([0.0, 0.0, end * length / 2]),
                                    np.array([0.0, 0.0, 0.0, 1.0])))
            _geometry(parent, tag, name, cap, Geometry('sphere', (radius,)), skipped)
        return
    if kind not in ('box', 'cylinder', 'sphere', 'mesh'):
        skipped.append(f'{name}: <{kind}> (URDF has no such shape)')
        return
    elem = ET.SubElement(parent, tag, name=name.rsplit('::', 1)[-1])
    _origin(elem, pose)
    shape = ET.SubElement(elem, 'geometry')
    if kind == 'box':
        ET.SubElement(shape, 'box', size=' '.join(f'{v:.12g}' for v in size))
    elif kind == 'cylinder':
        ET.SubElement(shape, 'cylinder', radius=f'{size[0]:.12g}', length=f'{size[1]:.12g}')
    elif kind == 'sphere':
        ET.SubElement(shape, 'sphere', radius=f'{size[0]:.12g}')
    else:
        ET.SubElement(shape, 'mesh', filename=str(geometry.mesh_path),
                      scale=' '.join(f'{v:.12g}' for v in geometry.scale))


def _link_elements(model: ET.Element, prefix: str = '') -> dict[str, ET.Element]:
    """Scoped name (as the world loader gives it, without the robot's own name) -> the
    ``<link>`` element, for the model and its nested models."""
    found = {prefix + (link.get('name') or ''): link for link in model.findall('link')}
    for nested in model.findall('model'):
        found.update(_link_elements(nested, f'{prefix}{nested.get("name")}::'))
    return found


def _pose(elem: ET.Element | None) -> Pose:
    """A visual's or sensor's ``<pose>`` in its link (identity if absent or unreadable)."""
    try:
        return sdf_pose(elem) if elem is not None else Pose()
    except ValueError:
        return Pose()


def _visual(elem: ET.Element, base_dir: Path, search: list[Path]) -> Geometry | None:
    geometry = elem.find('geometry')
    shape = next(iter(geometry), None) if geometry is not None else None
    if shape is None:
        return None
    try:
        if shape.tag == 'box':
            return Geometry('box', tuple(float(v) for v in read_text(shape.find('size')).split()))
        if shape.tag in ('cylinder', 'capsule'):
            return Geometry(shape.tag, (float(read_text(shape.find('radius')) or 0.5),
                                        float(read_text(shape.find('length')) or 1.0)))
        if shape.tag == 'sphere':
            return Geometry('sphere', (float(read_text(shape.find('radius')) or 1.0),))
        if shape.tag == 'mesh':
            path = resolve_uri(read_text(shape.find('uri')), base_dir=base_dir,
                               search_path=search)
            scale = read_text(shape.find('scale')) or '1 1 1'
            return Geometry('mesh', (), mesh_path=path,
                            scale=tuple(float(v) for v in scale.split()))
    except (ValueError, TwinBridgeError):
        return None
    return None


def sdf_model_urdf(path: Path, search_path: list[Path] | None = None) -> str:
    """The URDF of the (first) ``<model>`` in SDF file ``path``.

    :raise RobotDescriptionError: naming the file: no model, a model pinned to the world,
        or anything the world loader refuses
    """
    try:
        world = parse_world(path, search_path=search_path)
        root = read_xml(path)
    except TwinBridgeError as exc:
        raise RobotDescriptionError(f'{path}: cannot read the SDF robot: {exc}') from None
    model = root.find('model') if root.tag == 'sdf' else None
    if model is None or len(world.models) == 0:
        raise RobotDescriptionError(f'{path}: no <model> in this SDF file; give the robot\'s '
                                    'model.sdf (a world file is not a robot)')
    name = model.get('name') or path.parent.name
    prefix = f'{world.models[0]}::'
    links = [link for link in world.links if link.name.startswith(prefix)]
    joints = [j for j in world.joints if j.child.startswith(prefix)]
    for joint in joints:
        if joint.parent == 'world':
            raise RobotDescriptionError(
                f'{joint.source}: joint attaches the robot to the world; a twin needs a mobile '
                'base (remove the joint to "world")')
    urdf = ET.Element('robot', name=name)
    frames, shifted = _frames(links, joints)
    skipped: list[str] = []
    elements = _link_elements(model)
    search = model_search_path(search_path)
    for link in links:
        _write_link(urdf, link, prefix, frames[link.name], elements.get(link.name[len(prefix):]),
                    path.parent, search, skipped)
    for joint in joints:
        _write_joint(urdf, joint, prefix, frames, skipped)
    for plugin in model.findall('plugin'):
        ET.SubElement(urdf, 'gazebo').append(plugin)
    if shifted:
        LOGGER.warning('%s: the URDF frames of %s are at their joints, not at the SDF link '
                       'origins (their shapes, sensors and inertials are shifted to stay put)',
                       path, ', '.join(f'"{n}"' for n in shifted))
    if skipped:
        LOGGER.warning('%s: not converted to the robot\'s URDF: %s', path, '; '.join(skipped))
    return ET.tostring(urdf, encoding='unicode')


def _frames(links: list[Link], joints: list[Joint]) -> tuple[dict[str, Pose], list[str]]:
    """World pose of each link's URDF frame: the SDF link frame moved to its joint's origin
    (usually the same point)."""
    frames = {link.name: link.pose for link in links}
    shifted = []
    for joint in joints:
        link = frames[joint.child]
        offset = np.asarray(joint.pose.position) - np.asarray(link.position)
        if np.linalg.norm(offset) > 1e-9 and joint.type != 'fixed':
            frames[joint.child] = Pose(np.asarray(joint.pose.position), link.orientation)
            shifted.append(joint.child.split('::', 1)[-1])
    return frames, shifted


def _write_link(urdf: ET.Element, link: Link, prefix: str, frame: Pose,
                elem: ET.Element | None, base_dir: Path, search: list[Path],
                skipped: list[str]) -> None:
    local = link.name[len(prefix):]
    out = ET.SubElement(urdf, 'link', name=local)
    shift = frame.inverse().compose(link.pose)  # SDF link frame in the URDF link frame
    inertial = link.inertial
    if inertial.auto:
        skipped.append(f'link "{local}": <inertial auto="true"> (MuJoCo\'s minimum mass is used)')
    else:
        inert = ET.SubElement(out, 'inertial')
        _origin(inert, shift.compose(inertial.pose))
        ET.SubElement(inert, 'mass', value=f'{inertial.mass:.12g}')
        i = inertial.inertia
        ET.SubElement(inert, 'inertia', ixx=f'{i[0, 0]:.12g}', ixy=f'{i[0, 1]:.12g}',
                      ixz=f'{i[0, 2]:.12g}', iyy=f'{i[1, 1]:.12g}', iyz=f'{i[1, 2]:.12g}',
                      izz=f'{i[2, 2]:.12g}')
    for collision in link.collisions:
        _geometry(out, 'collision', collision.name, shift.compose(collision.pose),
                  collision.geometry, skipped)
    if elem is None:
        return
    for visual in elem.findall('visual'):
        geometry = _visual(visual, base_dir, search)
        vname = f'{local}::{visual.get("name") or "visual"}'
        if geometry is None:
            skipped.append(f'visual "{vname}" (its geometry or mesh cannot be read)')
            continue
        pose = _pose(visual.find('pose'))
        _geometry(out, 'visual', vname, shift.compose(pose), geometry, skipped)
    for sensor in elem.findall('sensor'):
        copy = ET.fromstring(ET.tostring(sensor))
        pose_elem = copy.find('pose')
        pose = _pose(pose_elem)
        if pose_elem is None:
            pose_elem = ET.SubElement(copy, 'pose')
        placed = shift.compose(pose)
        pose_elem.attrib.clear()
        pose_elem.text = ' '.join(f'{v:.12g}' for v in (*placed.position,
                                                          *_rpy(placed.orientation)))
        ET.SubElement(urdf, 'gazebo', reference=local).append(copy)


def _write_joint(urdf: ET.Element, joint: Joint, prefix: str, frames: dict[str, Pose],
                 skipped: list[str]) -> None:
    kind = {'revolute': 'revolute' if joint.lower is not None else 'continuous',
            'continuous': 'continuous', 'prismatic': 'prismatic', 'fixed': 'fixed'}.get(joint.type)
    local = joint.name[len(prefix):] if joint.name.startswith(prefix) else joint.name
    if kind is None:
        skipped.append(f'joint "{local}" of type "{joint.type}" (simulated as fixed)')
        kind = 'fixed'
    out = ET.SubElement(urdf, 'joint', name=local, type=kind)
    ET.SubElement(out, 'parent', link=joint.parent[len(prefix):])
    ET.SubElement(out, 'child', link=joint.child[len(prefix):])
    child = frames[joint.child]
    _origin(out, frames[joint.parent].inverse().compose(child))
    if kind == 'fixed':
        return
    axis = quat_to_matrix(np.asarray(child.orientation)).T @ np.asarray(joint.axis)
    ET.SubElement(out, 'axis', xyz=' '.join(f'{v:.12g}' for v in axis))
    if kind in ('revolute', 'prismatic'):
        lower = joint.lower if joint.lower is not None else -_FAR
        upper = joint.upper if joint.upper is not None else _FAR
        ET.SubElement(out, 'limit', lower=f'{lower:.12g}', upper=f'{upper:.12g}', effort='0',
                      velocity='0')
