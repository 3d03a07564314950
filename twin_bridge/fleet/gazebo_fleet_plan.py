"""What the Gazebo fleet launch starts: one Gazebo world, per robot a spawn, a bridge and a
twin node in the robot's namespace (computed without ``launch``, testable anywhere)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from twin_bridge.fleet.fleet_spec import FleetSpec, RobotEntry, load_fleet_file
from twin_bridge.gazebo.launch_support import GazeboTwinPlan, plan_gazebo_twin

__all__ = ['GazeboFleetPlan', 'GazeboRobotPlan', 'gz_topic_prefix', 'plan_gazebo_fleet']


@dataclass(frozen=True)
class GazeboRobotPlan:
    """One robot of the Gazebo fleet: its namespace, Gazebo model name, xacro arguments (as
    the launch passes them on) and its single-twin plan (spawn, bridge, node parameters)."""

    namespace: str
    model_name: str
    xacro_args: str
    plan: GazeboTwinPlan


@dataclass(frozen=True)
class GazeboFleetPlan:
    """The fleet in Gazebo: the one ``gz sim`` command, its resource paths, the clock bridge
    arguments (``/clock`` bridged once for all robots) and the robots."""

    fleet: FleetSpec
    gz_command: list[str]
    gz_resource_paths: list[str]
    clock_arguments: list[str]
    robots: list[GazeboRobotPlan]


def gz_topic_prefix(entry: RobotEntry) -> str:
    """The robot's Gazebo-side topic prefix: its own ``gz_topic_prefix`` xacro argument, else
    ``/<namespace>/twin``, so no two robots share a Gazebo topic."""
    return entry.xacro_args.get('gz_topic_prefix', f'/{entry.namespace}/twin')


def plan_gazebo_fleet(fleet_file: str, *, world: str = '', headless: str | bool = False,
                      gui: str | bool = True, use_sim_time: str | bool = False,
                      bridge_directory: str | Path | None = None,
                      packages: Mapping[str, str] | None = None) -> GazeboFleetPlan:
    """Plan every robot of ``fleet_file`` as :func:`plan_gazebo_twin` plans one twin: spawned
    as model ``<namespace>`` (``/`` -> ``_``) at its start pose, its bridge and twin node in
    its namespace, its Gazebo topics under :func:`gz_topic_prefix`.

    :raise TwinBridgeError: (a subclass) naming the fleet file, robot, world or argument
    """
    fleet = load_fleet_file(fleet_file, world=world)
    robots = []
    for entry in fleet.robots:
        args = {**entry.xacro_args, 'gz_topic_prefix': gz_topic_prefix(entry)}
        text = ' '.join(f'{k}:={v}' for k, v in args.items())
        model = entry.namespace.replace('/', '_')
        plan = plan_gazebo_twin(
            world=fleet.world, robot_description_file=entry.description_file,
            xacro_args=text, headless=headless, gui=gui, namespace=entry.namespace,
            model_name=model, use_sim_time=use_sim_time, x=entry.pose.x, y=entry.pose.y,
            z=entry.pose.z, yaw=entry.pose.yaw, bridge_directory=bridge_directory,
            packages=packages, lidar_sensor=entry.parameter('lidar_sensor'))
        robots.append(GazeboRobotPlan(entry.namespace, model, text, plan))
    first = robots[0].plan
    paths = list(dict.fromkeys(p for r in robots for p in r.plan.gz_resource_paths))
    return GazeboFleetPlan(fleet, first.gz_command, paths, first.bridge.clock_arguments,
                           robots)
