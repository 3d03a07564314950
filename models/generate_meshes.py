"""Writes the small mesh files of the shipped models (STL, OBJ, COLLADA); run from anywhere.

The files are committed; rerun this only to change them. Output is deterministic.
"""

from __future__ import annotations

import math
from pathlib import Path
import struct

import numpy as np

MODELS = Path(__file__).resolve().parent


def cylinder(radius: float, z0: float, z1: float, sections: int, top_radius: float | None = None
             ) -> tuple[np.ndarray, np.ndarray]:
    """A closed (truncated) cone around z from ``z0`` to ``z1``; apex if ``top_radius`` is 0."""
    top = radius if top_radius is None else top_radius
    angles = 2 * math.pi * np.arange(sections) / sections
    ring = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    verts = [np.column_stack([radius * ring, np.full(sections, z0)])]
    faces = []
    bottom_centre = 2 * sections if top > 0 else sections + 1
    if top > 0:
        verts.append(np.column_stack([top * ring, np.full(sections, z1)]))
        verts.append([[0.0, 0.0, z0], [0.0, 0.0, z1]])
        top_centre = bottom_centre + 1
        for i in range(sections):
            j = (i + 1) % sections
            faces += [[i, j, sections + j], [i, sections + j, sections + i],
                      [bottom_centre, j, i], [top_centre, sections + i, sections + j]]
    else:
        verts.append([[0.0, 0.0, z1], [0.0, 0.0, z0]])
        apex = sections
        for i in range(sections):
            j = (i + 1) % sections
            faces += [[i, j, apex], [bottom_centre, j, i]]
    return np.vstack(verts), np.array(faces)


def box(lo: tuple[float, float, float], hi: tuple[float, float, float]
        ) -> tuple[np.ndarray, np.ndarray]:
    """A closed axis-aligned box with outward-facing triangles."""
    x0, y0, z0 = lo
    x1, y1, z1 = hi
    verts = np.array([[x0, y0, z0], [x1, y0, z0], [x1, y1, z0], [x0, y1, z0],
                      [x0, y0, z1], [x1, y0, z1], [x1, y1, z1], [x0, y1, z1]])
    faces = np.array([[0, 2, 1], [0, 3, 2], [4, 5, 6], [4, 6, 7], [0, 1, 5], [0, 5, 4],
                      [1, 2, 6], [1, 6, 5], [2, 3, 7], [2, 7, 6], [3, 0, 4], [3, 4, 7]])
    return verts, faces


def merge(*parts: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """One vertex/face list from several shells."""
    verts, faces, offset = [], [], 0
    for v, f in parts:
        verts.append(v)
        faces.append(f + offset)
        offset += len(v)
    return np.vstack(verts), np.vstack(faces)


def write_stl(path: Path, verts: np.ndarray, faces: np.ndarray) -> None:
    """Binary STL."""
    with path.open('wb') as out:
        out.write(b'twin_bridge generate_meshes.py'.ljust(80, b' '))
        out.write(struct.pack('<I', len(faces)))
        for face in faces:
            a, b, c = verts[face]
            normal = np.cross(b - a, c - a)
            normal = normal / (np.linalg.norm(normal) or 1.0)
            out.write(struct.pack('<12fH', *normal, *a, *b, *c, 0))


def write_obj(path: Path, verts: np.ndarray, faces: np.ndarray) -> None:
    """Wavefront OBJ (1-based indices)."""
    lines = ['# twin_bridge generate_meshes.py', 'o barrel']
    lines += [f'v {x:.5f} {y:.5f} {z:.5f}' for x, y, z in verts]
    lines += [f'f {a + 1} {b + 1} {c + 1}' for a, b, c in faces]
    path.write_text('\n'.join(lines) + '\n')


def write_dae(path: Path, verts: np.ndarray, faces: np.ndarray, rgb: tuple[float, ...]) -> None:
    """COLLADA 1.4.1, Z up, metres, one triangle list with a diffuse colour."""
    positions = ' '.join(f'{v:.5f}' for v in verts.ravel())
    indices = ' '.join(str(i) for i in faces.ravel())
    colour = ' '.join(f'{c:.3f}' for c in rgb)
    path.write_text(f'''<?xml version="1.0" encoding="utf-8"?>
<COLLADA xmlns="http://www.collada.org/2005/11/COLLADASchema" version="1.4.1">
  <asset>
    <contributor><authoring_tool>twin_bridge generate_meshes.py</authoring_tool></contributor>
    <created>2026-01-01T00:00:00</created>
    <modified>2026-01-01T00:00:00</modified>
    <unit name="meter" meter="1"/>
    <up_axis>Z_UP</up_axis>
  </asset>
  <library_effects>
    <effect id="paint-effect">
      <profile_COMMON><technique sid="common"><lambert>
        <diffuse><color>{colour} 1</color></diffuse>
      </lambert></technique></profile_COMMON>
    </effect>
  </library_effects>
  <library_materials>
    <material id="paint" name="paint"><instance_effect url="#paint-effect"/></material>
  </library_materials>
  <library_geometries>
    <geometry id="shape" name="shape">
      <mesh>
        <source id="shape-positions">
          <float_array id="shape-positions-array" count="{verts.size}">{positions}</float_array>
          <technique_common>
            <accessor source="#shape-positions-array" count="{len(verts)}" stride="3">
              <param name="X" type="float"/><param name="Y" type="float"/>
              <param name="Z" type="float"/>
            </accessor>
          </technique_common>
        </source>
        <vertices id="shape-vertices">
          <input semantic="POSITION" source="#shape-positions"/>
        </vertices>
        <triangles material="paint" count="{len(faces)}">
          <input semantic="VERTEX" source="#shape-vertices" offset="0"/>
          <p>{indices}</p>
        </triangles>
      </mesh>
    </geometry>
  </library_geometries>
  <library_visual_scenes>
    <visual_scene id="scene" name="scene">
      <node id="shape-node" name="shape">
        <instance_geometry url="#shape">
          <bind_material><technique_common>
            <instance_material symbol="paint" target="#paint"/>
          </technique_common></bind_material>
        </instance_geometry>
      </node>
    </visual_scene>
  </library_visual_scenes>
  <scene><instance_visual_scene url="#scene"/></scene>
</COLLADA>
''')


def ramp(length: float, width: float, height: float) -> tuple[np.ndarray, np.ndarray]:
    """A wedge rising along +x from z=0 at x=-length/2 to ``height`` at x=+length/2."""
    hx, hy = length / 2, width / 2
    verts = np.array([[-hx, -hy, 0], [hx, -hy, 0], [hx, hy, 0], [-hx, hy, 0],
                      [hx, -hy, height], [hx, hy, height]], dtype=float)
    faces = np.array([[0, 2, 1], [0, 3, 2], [0, 1, 4], [3, 5, 2], [1, 2, 5], [1, 5, 4],
                      [0, 4, 5], [0, 5, 3]])
    return verts, faces


def main() -> None:
    """Write every mesh file."""
    cone = merge(box((-0.18, -0.18, 0.0), (0.18, 0.18, 0.03)),
                 cylinder(0.14, 0.03, 0.5, 16, top_radius=0.0))
    write_stl(MODELS / 'traffic_cone' / 'meshes' / 'traffic_cone.stl', *cone)
    write_obj(MODELS / 'barrel' / 'meshes' / 'barrel.obj', *cylinder(0.3, 0.0, 0.9, 20))
    write_dae(MODELS / 'ramp' / 'meshes' / 'ramp.dae', *ramp(1.2, 0.8, 0.3), (0.55, 0.55, 0.6))


if __name__ == '__main__':
    main()
