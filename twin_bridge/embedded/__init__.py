"""The embedded simulator: MuJoCo models built from descriptions, and its backend.

May import: :mod:`twin_bridge.description`, :mod:`twin_bridge.core`, MuJoCo, numpy.
"""

from twin_bridge.embedded.mujoco_log import route_mujoco_warnings

route_mujoco_warnings()
