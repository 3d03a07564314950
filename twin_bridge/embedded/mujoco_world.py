"""Building a MuJoCo ``MjSpec`` holding only the world (no robot) from a parsed SDF world."""

from __future__ import annotations

from pathlib import Path

import mujoco
import numpy as np

from twin_bridge.core.transforms import Pose, quat_to_matrix, quat_xyzw_to_wxyz
from twin_bridge.description.meshes import load_mesh
from twin_bridge.description.primitive_meshes import cone_mesh
from twin_bridge.description.sdf_world import Collision, Joint, Link, WorldDescription, parse_world
from twin_bridge.embedded.convex_decomposition import convex_parts
from twin_bridge.errors import TwinBridgeError, WorldLoadError

__all__ = ['CONTACT_GEOM_GROUP', 'WORLD_GEOM_GROUP', 'build_world_spec', 'load_world_spec',
           'plane_quaternion']

# Geom group of every world geom (static and dynamic); the lidar casts against this group.
WORLD_GEOM_GROUP = 0
#: Geom group of the convex parts of a decomposed concave mesh: they collide, rays skip them.
CONTACT_GEOM_GROUP = 3

_GEOM_TYPES = {
    'box': mujoco.mjtGeom.mjGEOM_BOX,
    'cylinder': mujoco.mjtGeom.mjGEOM_CYLINDER,
    'sphere': mujoco.mjtGeom.mjGEOM_SPHERE,
    'capsule': mujoco.mjtGeom.mjGEOM_CAPSULE,
    'ellipsoid': mujoco.mjtGeom.mjGEOM_ELLIPSOID,
    'plane': mujoco.mjtGeom.mjGEOM_PLANE,
    'mesh': mujoco.mjtGeom.mjGEOM_MESH,
    'cone': mujoco.mjtGeom.mjGEOM_MESH,  # no cone primitive: a fine mesh of it
}


def load_world_spec(path: str | Path, *, search_path: list[Path] | None = None,
                    decompose_meshes: bool = True) -> tuple[mujoco.MjSpec, WorldDescription]:
    """Parse an SDF world and build its MuJoCo spec (see :func:`build_world_spec`).

    :param path: world file, or the name of a world shipped in this package's ``worlds/``
    :param search_path: extra ``model://`` directories, searched first
    :param decompose_meshes: split concave static meshes into convex parts for contacts
    :raise ResourceNotFoundError: missing world, model or mesh file
    :raise WorldLoadError: anything in the world that cannot be loaded, naming file and element
    """
    world = parse_world(path, search_path=search_path)
    return build_world_spec(world, decompose_meshes=decompose_meshes), world


def build_world_spec(world: WorldDescription, *, decompose_meshes: bool = True
                     ) -> mujoco.MjSpec:
    """A MuJoCo spec with the world's collision geometry and nothing else.

    Static links' geoms are attached to the world body at their world pose. Each link of a
    non-static model becomes a body named after the scoped link, with its SDF mass, inertia and
    geoms; joints between such links, whether in a model or directly under ``<world>``
    (SDF 1.8+), become MuJoCo joints (hinge, slide, ball; a fixed joint welds the child body
    to its parent), and every link no joint carries gets a free joint of the same name.

    Only collision geometry is added (it is what the embedded lidar hits). Every geom is in
    group :data:`WORLD_GEOM_GROUP` and named after the scoped collision
    (``model::link::collision``), so repeated SDF names never clash. ``option.timestep`` is
    the world's ``max_step_size`` (if given) and ``option.gravity`` its gravity. Meshes
    become mesh assets holding their vertices (no file references).

    MuJoCo collides a mesh as its convex hull. With ``decompose_meshes``, a concave static
    mesh (a room modelled as one mesh) keeps its exact triangles for ray casts only
    (``contype``/``conaffinity`` 0) and collides through its convex parts
    (:func:`~twin_bridge.embedded.convex_decomposition.convex_parts`, cached on disk), added
    at the same pose in :data:`CONTACT_GEOM_GROUP`, which the lidar never casts against.
    The caller adds the robot and compiles.
    """
    spec = mujoco.MjSpec()
    spec.modelname = world.name
    spec.compiler.degree = False  # joint ranges below are in radians, as in SDF
    spec.option.gravity = np.asarray(world.gravity, dtype=float)
    if world.max_step_size is not None:
        spec.option.timestep = world.max_step_size
    meshes: dict[tuple, str] = {}
    links = {link.name: link for link in world.links}
    carried_by = {joint.child: joint for joint in world.joints}
    children: dict[str, list[Joint]] = {}
    for joint in world.joints:
        children.setdefault(joint.parent, []).append(joint)
    for link in world.links:
        if link.static:
            for collision in link.collisions:
                _add_geom(spec, spec.worldbody, link.pose.compose(collision.pose), collision,
                          meshes, decompose=decompose_meshes)
            continue
        joint = carried_by.get(link.name)
        if joint is None or joint.parent == 'world' or links[joint.parent].static:
            _add_body_tree(spec, spec.worldbody, Pose(), link, joint, links, children, meshes)
    return spec


def plane_quaternion(normal: tuple[float, float, float]) -> np.ndarray:
    """Quaternion ``(x, y, z, w)`` turning +z onto ``normal`` (shortest arc)."""
    n = np.asarray(normal, dtype=float)
    n = n / np.linalg.norm(n)
    z = np.array([0.0, 0.0, 1.0])
    dot = float(z @ n)
    if dot < -1.0 + 1e-12:
        return np.array([1.0, 0.0, 0.0, 0.0])
    axis = np.cross(z, n)
    quat = np.array([axis[0], axis[1], axis[2], 1.0 + dot])
    return quat / np.linalg.norm(quat)


_JOINT_TYPES = {
    'revolute': mujoco.mjtJoint.mjJNT_HINGE,
    'continuous': mujoco.mjtJoint.mjJNT_HINGE,
    'prismatic': mujoco.mjtJoint.mjJNT_SLIDE,
    'ball': mujoco.mjtJoint.mjJNT_BALL,
}


def _add_body_tree(spec: mujoco.MjSpec, parent: mujoco.MjsBody, parent_pose: Pose, link: Link,
                   joint: Joint | None, links: dict[str, Link],
                   children: dict[str, list[Joint]], meshes: dict[tuple, str]) -> None:
    """Add ``link`` under ``parent`` (world pose ``parent_pose``), then the links it carries."""
    local = parent_pose.inverse().compose(link.pose)
    body = parent.add_body(name=link.name, pos=local.position,
                           quat=quat_xyzw_to_wxyz(local.orientation))
    if joint is None:
        body.add_freejoint(name=link.name)
    elif joint.type in _JOINT_TYPES:
        in_link = link.pose.inverse().compose(joint.pose)
        axis = quat_to_matrix(link.pose.orientation).T @ np.asarray(joint.axis)
        mj_joint = body.add_joint(name=joint.name, type=_JOINT_TYPES[joint.type],
                                  pos=in_link.position, axis=axis, damping=joint.damping)
        if joint.lower is not None:
            mj_joint.limited = mujoco.mjtLimited.mjLIMITED_TRUE
            mj_joint.range = [joint.lower, joint.upper]
        else:
            mj_joint.limited = mujoco.mjtLimited.mjLIMITED_FALSE
    _fill_body(spec, body, link, meshes)
    for child_joint in children.get(link.name, ()):
        _add_body_tree(spec, body, link.pose, links[child_joint.child], child_joint, links,
                       children, meshes)


def _fill_body(spec: mujoco.MjSpec, body: mujoco.MjsBody, link: Link,
               meshes: dict[tuple, str]) -> None:
    if not link.gravity:
        body.gravcomp = 1.0
    for collision in link.collisions:
        geom = _add_geom(spec, body, collision.pose, collision, meshes)
        geom.density = collision.density
    inertial = link.inertial
    if inertial.auto:
        if not link.collisions:
            raise WorldLoadError(f'{link.source}: <inertial auto="true"> but no collision')
        return  # MuJoCo computes mass and inertia from the geoms and their densities
    body.mass = inertial.mass
    body.ipos = inertial.pose.position
    # Principal axes: MuJoCo wants the inertial frame aligned with them.
    moments, axes = np.linalg.eigh(inertial.inertia)
    if np.linalg.det(axes) < 0:
        axes[:, 2] = -axes[:, 2]
    moments = _balanced(moments, link)
    rot = Pose(np.zeros(3), inertial.pose.orientation).matrix()[:3, :3] @ axes
    quat = np.zeros(4)
    mujoco.mju_mat2Quat(quat, rot.ravel())
    body.iquat = quat
    body.inertia = moments
    body.explicitinertial = True


def _balanced(moments: np.ndarray, link: Link) -> np.ndarray:
    """Principal moments, raised just enough to satisfy the triangle inequality MuJoCo checks."""
    if moments.min() <= 0:
        raise WorldLoadError(f'{link.source}: inertia is not positive definite')
    moments = moments.copy()
    for i in range(3):
        others = moments.sum() - moments[i]
        if moments[i] > others:
            moments[(i + 1) % 3] += (moments[i] - others) / 2 + 1e-12
            moments[(i + 2) % 3] += (moments[i] - others) / 2 + 1e-12
    return moments


def _add_geom(spec: mujoco.MjSpec, body: mujoco.MjsBody, pose: Pose, collision: Collision,
              meshes: dict[tuple, str], decompose: bool = False) -> mujoco.MjsGeom:
    geometry = collision.geometry
    kind = geometry.kind
    orientation = pose.orientation
    if kind == 'plane':
        orientation = Pose(np.zeros(3), orientation).compose(
            Pose(np.zeros(3), plane_quaternion(geometry.normal))).orientation
    geom = body.add_geom(name=collision.name, type=_GEOM_TYPES[kind], pos=pose.position,
                         quat=quat_xyzw_to_wxyz(orientation), group=WORLD_GEOM_GROUP)
    size = geometry.size
    if kind == 'box':
        geom.size = np.asarray(size) / 2
    elif kind in ('cylinder', 'capsule'):
        geom.size = [size[0], size[1] / 2, 0.0]
    elif kind == 'sphere':
        geom.size = [size[0], 0.0, 0.0]
    elif kind == 'ellipsoid':
        geom.size = list(size)
    elif kind == 'plane':
        # Infinite like Gazebo's physics plane; SDF <size> only matters for rendering there.
        geom.size = [0.0, 0.0, 1.0]
    elif kind in ('mesh', 'cone'):
        geom.meshname = _mesh_asset(spec, collision, meshes)
    if collision.mu is not None:
        geom.friction = [collision.mu, geom.friction[1], geom.friction[2]]
    if decompose and kind == 'mesh':
        parts = _part_assets(spec, collision, meshes)
        if parts:  # the exact mesh for rays only; its convex parts collide
            geom.contype = geom.conaffinity = 0
            for k, part in enumerate(parts):
                body.add_geom(name=f'{collision.name}::convex{k}',
                              type=mujoco.mjtGeom.mjGEOM_MESH, meshname=part, pos=geom.pos,
                              quat=geom.quat, group=CONTACT_GEOM_GROUP, friction=geom.friction)
    return geom


def _part_assets(spec: mujoco.MjSpec, collision: Collision, meshes: dict[tuple, str]
                 ) -> list[str]:
    """Mesh assets of the convex parts of a concave collision mesh (none: convex enough)."""
    geometry = collision.geometry
    key = ('parts', str(geometry.mesh_path), geometry.scale)
    if key not in meshes:
        mesh = load_mesh(geometry.mesh_path, geometry.scale)
        parts = convex_parts(mesh, f'{collision.source}: {Path(geometry.mesh_path).name}') or ()
        base = meshes[(str(geometry.mesh_path), geometry.scale)]
        names = []
        for k, part in enumerate(parts):
            names.append(f'{base}_convex{k}')
            spec.add_mesh(name=names[-1], uservert=part.vertices.ravel().tolist(),
                          userface=part.faces.ravel().tolist(),
                          inertia=mujoco.mjtMeshInertia.mjMESH_INERTIA_SHELL)
        meshes[key] = '\n'.join(names)
    return [name for name in meshes[key].split('\n') if name]


def _mesh_asset(spec: mujoco.MjSpec, collision: Collision, meshes: dict[tuple, str]) -> str:
    geometry = collision.geometry
    key = ((geometry.kind, geometry.size) if geometry.kind == 'cone'
           else (str(geometry.mesh_path), geometry.scale))
    if key in meshes:
        return meshes[key]
    if geometry.kind == 'cone':
        mesh = cone_mesh(*geometry.size)
        name = f'mesh{len(meshes)}_cone'
        inertia = mujoco.mjtMeshInertia.mjMESH_INERTIA_EXACT  # a closed solid
    else:
        try:
            mesh = load_mesh(geometry.mesh_path, geometry.scale)
        except TwinBridgeError as exc:
            raise type(exc)(f'{collision.source}: {exc}') from None
        name = f'mesh{len(meshes)}_{Path(geometry.mesh_path).stem}'
        inertia = mujoco.mjtMeshInertia.mjMESH_INERTIA_SHELL
    spec.add_mesh(name=name, uservert=mesh.vertices.ravel().tolist(),
                  userface=mesh.faces.ravel().tolist(), inertia=inertia)
    meshes[key] = name
    return name
