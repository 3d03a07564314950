"""Safety in the twin: a command gate that judges velocity commands before they move a robot.

:mod:`.gate` holds :class:`~.gate.CommandGate` (pass / slow / stop per command, with the
reason and the time to collision; stale inputs and an e-stop latch stop), its configuration
and verdicts; :mod:`.scan_obstacles` keeps the latest physical scan's returns that the twin's
world does not explain, as world-frame points. The footprint itself is swept by
:class:`twin_bridge.embedded.footprint_sweep.FootprintSweep`.

May import: :mod:`twin_bridge.twin.drift` (its beam residuals), :mod:`twin_bridge.embedded`,
:mod:`twin_bridge.core`, :mod:`twin_bridge.errors`, numpy. No ``rclpy``.
"""

from twin_bridge.twin.safety.gate import (
    Command,
    CommandGate,
    GateConfig,
    GateVerdict,
    RobotState,
)
from twin_bridge.twin.safety.scan_obstacles import ScanObstacles

__all__ = ['Command', 'CommandGate', 'GateConfig', 'GateVerdict', 'RobotState',
           'ScanObstacles']
