"""Frames rigidly fixed to a robot's root link, and odometry expressed in any of them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from twin_bridge.core.state import OdometrySample
from twin_bridge.core.transforms import Pose, quat_to_matrix

if TYPE_CHECKING:
    from twin_bridge.description.robot_description import RobotDescription

__all__ = ['FixedFrames']


class FixedFrames:
    """Poses, in the root link frame, of a robot's links rigidly fixed to its root link.

    Only the robot's own links are ever remembered, so frame names taken from input cannot
    grow it.
    """

    def __init__(self, robot: RobotDescription | None) -> None:
        """:param robot: the robot; ``None`` makes every method a no-op (frames unknown)"""
        self._robot = robot
        self._links = frozenset(robot.links) if robot is not None else frozenset()
        self._longest = max(map(len, self._links), default=0)
        self._parent_joint = {j.child: j for j in robot.joints} if robot is not None else {}
        self._cache: dict[str, Pose | None] = {}  # keys: links of the robot only

    @property
    def root_link(self) -> str | None:
        """The robot's root link (``None`` without a robot)."""
        return self._robot.root_link if self._robot is not None else None

    def is_link(self, name: str) -> bool:
        """True if ``name`` is a link of the robot (moving or not)."""
        return len(name) <= self._longest and name in self._links

    def in_root(self, link: str) -> Pose | None:
        """``link``'s pose in the root frame, or ``None`` if it is not a link of the robot
        or moves relative to the root."""
        if link in self._cache:
            return self._cache[link]
        if not self.is_link(link):
            return None
        pose = None
        current = link
        while current != self._robot.root_link:
            joint = self._parent_joint.get(current)
            if joint is None or joint.type != 'fixed':
                break
            current = joint.parent
        else:
            pose = self._robot.link_pose(link)
        self._cache[link] = pose
        return pose

    def express(self, state: OdometrySample, frame: str) -> OdometrySample:
        """``state`` (pose and twist of its ``child_frame_id``) as the pose and twist of
        ``frame``; unchanged when either frame is not fixed to the root."""
        if frame == state.child_frame_id:
            return state
        reported, target = self.in_root(state.child_frame_id), self.in_root(frame)
        if reported is None or target is None:
            return state
        offset = reported.inverse().compose(target)          # frame in the reported frame
        pose = Pose(np.asarray(state.position, dtype=float),
                    np.asarray(state.orientation, dtype=float)).compose(offset)
        to_frame = quat_to_matrix(offset.orientation).T
        angular = np.asarray(state.angular_velocity, dtype=float)
        linear = np.asarray(state.linear_velocity, dtype=float) + np.cross(angular,
                                                                           offset.position)
        return OdometrySample(pose.position, pose.orientation, to_frame @ linear,
                              to_frame @ angular, state.stamp_ns, state.frame_id, frame)

    def to_root(self, state: OdometrySample) -> OdometrySample:
        """``state`` as the pose and twist of the root link, what a backend moves; unchanged
        when its frame is the root, is not a link or moves relative to the root."""
        if self._robot is None:
            return state
        return self.express(state, self._robot.root_link)

    def label(self, state: OdometrySample, input_frame: str) -> OdometrySample:
        """The twin's odometry ``state`` as the pose of the input's child frame when that is
        a link fixed to the root, else of the root link. A reported frame that is no link of
        the robot is taken as the root (the pose a backend reports is its model's)."""
        if self._robot is None:
            return state
        root = self._robot.root_link
        if state.child_frame_id != root and self.in_root(state.child_frame_id) is None:
            state = OdometrySample(state.position, state.orientation, state.linear_velocity,
                                   state.angular_velocity, state.stamp_ns, state.frame_id,
                                   root)  # e.g. Gazebo's "model/base_link"
        if input_frame == state.child_frame_id:
            return state
        return self.express(state, input_frame if self.in_root(input_frame) is not None
                            else root)
