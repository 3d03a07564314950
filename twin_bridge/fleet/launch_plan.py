"""What a fleet launch starts per robot, computed without ``launch`` (testable anywhere)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from twin_bridge.description.robot_description import (
    default_robot_path,
    expand_xacro,
    load_robot_description,
)
from twin_bridge.description.sdf_robot import is_sdf_file
from twin_bridge.errors import ConfigError, TwinBridgeError
from twin_bridge.fleet.fleet_spec import FleetSpec, RobotEntry, load_fleet_file
from twin_bridge.fleet.shards import parse_shard

__all__ = ['RobotLaunch', 'plan_fleet_launch', 'robot_urdf']


@dataclass(frozen=True)
class RobotLaunch:
    """One robot of a fleet launch: its namespace, URDF (for robot_state_publisher) and the
    prefix of its twin's frames."""

    namespace: str
    urdf_xml: str
    frame_prefix: str
    entry: RobotEntry


def robot_urdf(entry: RobotEntry, source: str = '<fleet>') -> str:
    """The robot's URDF as robot_state_publisher takes it (xacro expanded with the robot's
    arguments; an SDF model converted).

    :raise ConfigError: ``'<file>: robot "r1": key "description": <why>'``
    """
    path = Path(entry.description_file) if entry.description_file else default_robot_path()
    try:
        if is_sdf_file(path):
            return load_robot_description(path).urdf_xml
        return expand_xacro(path, dict(entry.xacro_args) or None)
    except TwinBridgeError as exc:
        raise ConfigError(f'{source}: robot "{entry.namespace}": key "description": '
                          f'{exc}') from exc


def plan_fleet_launch(fleet_file: str, *, world: str = '',
                      shard: str = '') -> tuple[FleetSpec, list[RobotLaunch]]:
    """The fleet of ``fleet_file`` and, for the robots ``shard`` serves, what to launch.

    :raise ConfigError: a bad fleet file, shard or robot, named
    """
    fleet = load_fleet_file(fleet_file, world=world)
    served = parse_shard(shard)
    return fleet, [RobotLaunch(e.namespace, robot_urdf(e, fleet.source), e.frame_prefix, e)
                   for k, e in enumerate(fleet.robots) if served.serves(k)]
