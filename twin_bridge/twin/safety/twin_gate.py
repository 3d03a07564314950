"""The command gate wired to a twin's inputs: mirrored state in, one verdict per command out.

:class:`TwinGate` keeps what the gate needs from the twin's accepted inputs (the newest root
pose, joint state and physical scan, each with its receive time) and judges commands on
that, never on the simulator the inputs are mirrored into. Threads: :meth:`TwinGate.
on_accepted` runs on the input thread and only swaps references (atomic under the GIL);
:meth:`TwinGate.judge` and the e-stop methods run on one command thread, which also turns
the newest scan into obstacles (its ray cast) before the verdict, so
:class:`~.gate.CommandGate` is only ever used from that thread. :meth:`TwinGate.prepare` casts a
pending scan ahead of the next command (the node calls it between commands).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass
import math
from typing import Any

import numpy as np

from twin_bridge.core.lidar import ScanData
from twin_bridge.core.state import JointStateSample, OdometrySample
from twin_bridge.description.wheel_geometry import wheel_geometry
from twin_bridge.embedded.embedded_backend import LIDAR_SITE_NAME, ROBOT_PREFIX, EmbeddedBackend
from twin_bridge.errors import TwinBridgeError
from twin_bridge.twin.safety.gate import CommandGate, GateConfig, GateVerdict, RobotState
from twin_bridge.twin.twin_session import INPUT_JOINT_STATES, INPUT_ODOM, INPUT_SCAN

__all__ = ['GateStatus', 'TwinGate']

#: Reasons that mean the gate is blind (an ERROR status), and those a WARN.
_BLIND = ('stale_odometry', 'stale_scan')
_WARN = ('obstacle', 'scan_obstacle', 'e_stop', 'invalid_command')
_NOWHERE = RobotState(np.zeros(3), np.array([0.0, 0.0, 0.0, 1.0]), received=None)
_SEEN_KEYS = 32


@dataclass(frozen=True)
class GateStatus:
    """The gate's health for diagnostics: ``level`` 0 OK (pass, slow, no command yet),
    1 WARN (a stop for an obstacle, the e-stop, an invalid command; or the e-stop latched),
    2 ERROR (stopping on stale inputs); a one-line ``message`` and flat ``values``."""

    level: int
    message: str
    values: dict[str, Any]


class TwinGate:
    """A :class:`CommandGate` fed by a twin's accepted inputs (see the module doc).

    :param gate: the gate (its sweep and obstacles are used from the command thread only)
    :param lidar_site: the lidar site's id in the sweep's model (``None``: no lidar)
    :param held_joints: joints the footprint ignores (the wheels)
    """

    def __init__(self, gate: CommandGate, lidar_site: int | None = None,
                 held_joints: frozenset[str] = frozenset()) -> None:
        self.gate = gate
        self._lidar_site = lidar_site
        self._held = held_joints
        self._shaping: tuple[JointStateSample | None, JointStateSample | None] = (None, None)
        self._odom: tuple[OdometrySample, float] | None = None
        self._joints: JointStateSample | None = None
        # The newest scan with the pose it was taken from: (scan, received, odom, joints).
        self._scan: tuple[ScanData, float, OdometrySample, JointStateSample | None] | None = None
        self._scan_done: object = None
        self._seen: deque[Hashable] = deque(maxlen=_SEEN_KEYS)
        #: Scans turned into obstacles, scans that could not be (bad pose, too many beams),
        #: e-stop messages applied and their duplicates (one message seen twice) ignored.
        self.counts = {'scans': 0, 'scan_errors': 0, 'e_stop_messages': 0,
                       'e_stop_duplicates': 0}

    @classmethod
    def from_backend(cls, backend: EmbeddedBackend, config: GateConfig | None = None
                     ) -> TwinGate:
        """A gate on ``backend``'s robot and world (read once: the gate keeps copies)."""
        gate = CommandGate.from_backend(backend, config)
        site = None
        if gate.obstacles is not None:
            site = gate.sweep.model.site(ROBOT_PREFIX + LIDAR_SITE_NAME).id
        wheels = wheel_geometry(backend.robot)
        return cls(gate, site, frozenset(wheels.joint_names) if wheels else frozenset())

    def _shaping_joints(self, joints: JointStateSample | None) -> JointStateSample | None:
        """``joints`` without the held ones (the wheels: a turning wheel is the same
        cylinder, and the sweep would rebuild its footprint for every new wheel angle, as the
        scenario harness also holds them); remembered for the same sample."""
        if joints is None or not self._held:
            return joints
        source, shaped = self._shaping
        if joints is not source:
            keep = [i for i, n in enumerate(joints.names) if n not in self._held]
            shaped = None if not keep else JointStateSample(
                names=tuple(joints.names[i] for i in keep),
                positions=np.asarray(joints.positions)[keep])
            self._shaping = (joints, shaped)
        return shaped

    @property
    def wants_scans(self) -> bool:
        """Whether the gate takes physical scans (it stops when they go stale)."""
        return self.gate.obstacles is not None

    # -- inputs (input thread) -------------------------------------------------------------
    def on_accepted(self, stream: str, sample: Any, now: float) -> None:
        """A sample the twin accepted at monotonic time ``now`` (s): the root-frame odometry,
        the joint state or a physical scan. Quick, never raises."""
        if stream == INPUT_ODOM:
            self._odom = (sample, now)
            self.gate.on_odometry(now)
        elif stream == INPUT_JOINT_STATES:
            self._joints = sample
        elif stream == INPUT_SCAN and self.wants_scans:
            odom = self._odom
            if odom is not None:
                self._scan = (sample, now, odom[0], self._joints)

    # -- commands (command thread) ---------------------------------------------------------
    def judge(self, linear: float, angular: float, now: float) -> GateVerdict:
        """The verdict on ``(linear, angular)`` at monotonic time ``now`` (s), on the newest
        accepted inputs (a new scan becomes obstacles first). Never raises on bad input."""
        self.prepare()
        odom, joints = self._odom, self._shaping_joints(self._joints)
        state = _NOWHERE if odom is None else RobotState(
            odom[0].position, odom[0].orientation, joints, odom[1])
        return self.gate.judge((linear, angular), now, state)

    def prepare(self) -> None:
        """Turn the newest accepted scan into obstacles now if that is still to do (on the
        command thread, e.g. between commands, so the next command need not wait for it)."""
        pending = self._scan
        if pending is not None and pending is not self._scan_done:
            self._scan_done = pending
            self._take_scan(*pending)

    def _take_scan(self, scan: ScanData, received: float, odom: OdometrySample,
                   joints: JointStateSample | None) -> None:
        sweep = self.gate.sweep
        try:
            sweep.set_state(odom.position, odom.orientation, self._shaping_joints(joints))
            rot = sweep.data.site_xmat[self._lidar_site]
            yaw = math.atan2(rot[3], rot[0])  # the sensor x axis in the world's plane
            self.gate.on_scan(scan, received,
                              (sweep.data.site_xpos[self._lidar_site].copy(), yaw))
        except TwinBridgeError:  # the obstacles go stale: the gate stops, never the node
            self.counts['scan_errors'] += 1
            return
        self.counts['scans'] += 1

    def on_e_stop(self, engaged: bool, key: Hashable | None = None) -> bool:
        """Apply an e-stop message: ``True`` latches the stop, ``False`` releases it.

        :param key: identifies the message (e.g. its source time and sequence number): one
            already applied is ignored, so a message delivered twice (through two
            subscriptions) cannot undo a newer one
        :return: whether the message was applied
        """
        if key is not None:
            if key in self._seen:
                self.counts['e_stop_duplicates'] += 1
                return False
            self._seen.append(key)
        self.counts['e_stop_messages'] += 1
        if engaged:
            self.gate.engage_e_stop()
        else:
            self.gate.release_e_stop()
        return True

    # -- health ----------------------------------------------------------------------------
    def status(self) -> GateStatus:
        """Verdict, reason, time to collision of the latest command, and counts."""
        gate, last = self.gate, self.gate.last
        values: dict[str, Any] = {'e_stop': gate.e_stopped}
        if last is None:
            level, message = (1 if gate.e_stopped else 0), 'no command yet'
        else:
            values.update(verdict=last.verdict, reason=last.reason,
                          time_to_collision=last.time_to_collision, scale=last.scale,
                          clearance=last.clearance, obstacle=last.obstacle)
            level = 2 if last.reason in _BLIND else (
                1 if (last.verdict == 'stop' and last.reason in _WARN) or gate.e_stopped
                else 0)
            message = f'{last.verdict} ({last.reason})'
            if math.isfinite(last.time_to_collision):
                message += f', {last.time_to_collision:.2f} s to collision'
        values.update(gate.verdict_counts)
        values.update({f'reason.{r}': n for r, n in gate.reason_counts.items() if n})
        values.update(self.counts)
        return GateStatus(level, message, values)
