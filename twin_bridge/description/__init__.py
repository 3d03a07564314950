"""Loading what the twin is made of: SDFormat worlds, URDF/xacro robots, meshes, resources.

May import: :mod:`twin_bridge.core`, :mod:`twin_bridge.errors`, numpy, xacro, trimesh.
Imports no simulator (no MuJoCo): a description is plain data any backend can build from.
"""
