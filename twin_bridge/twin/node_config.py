"""The twin bridge node's parameters: names, defaults, descriptions, and validation (no ROS)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
import math
import textwrap
from typing import Any

from twin_bridge.core.lidar import LidarSpec
from twin_bridge.core.name_value import parse_name_value_args
from twin_bridge.errors import ConfigError
from twin_bridge.twin.safety.gate import GateConfig
from twin_bridge.twin.twin_session import SessionConfig

__all__ = ['BACKENDS', 'CMD_VEL_SAFE_TOPIC', 'COMMAND_INPUT_TOPICS', 'FORWARD_TOPIC',
           'INPUT_TOPICS', 'OUTPUT_TOPICS', 'PARAMETERS', 'QOS_NAMES',
           'UNKNOWN_JOINT_POLICIES', 'TwinNodeConfig', 'check_topic_loops', 'help_text',
           'parameter_help', 'wants_help']

BACKENDS = ('embedded', 'gazebo')
QOS_NAMES = ('reliable', 'sensor_data')
UNKNOWN_JOINT_POLICIES = ('reject', 'ignore')

#: name -> (default, description): the single source for the node's declarations and --help.
PARAMETERS: dict[str, tuple[Any, str]] = {
    'backend': ('embedded', 'simulator: embedded (MuJoCo, in-process) | gazebo (via ros_gz)'),
    'world': ('warehouse', 'world: a shipped world name (worlds/*.sdf) or an SDF path'),
    'robot_description_file': ('', 'robot URDF/xacro path, or an SDF model.sdf ("" = the '
                                   'package default robot)'),
    'robot_description_args': ([''], 'xacro arguments as "name:=value" strings'),
    'robot_description': ('', 'URDF XML string; wins over robot_description_file if set'),
    'lidar_sensor': ('', 'name of the robot\'s sensor simulated as the lidar ("" = the best '
                         'level multi-beam scanner among its lidar/ray sensors)'),
    'model_name': ('twin_robot', 'name of the twin model (Gazebo entity, diagnostics id)'),
    'input_joint_states_topic': ('joint_states', 'physical sensor_msgs/JointState input'),
    'input_odom_topic': ('odom', 'physical nav_msgs/Odometry input'),
    'output_joint_states_topic': ('virtual/joint_states', 'twin sensor_msgs/JointState output'),
    'output_odom_topic': ('virtual/odom', 'twin nav_msgs/Odometry output'),
    'output_scan_topic': ('virtual/scan', 'twin sensor_msgs/LaserScan output'),
    'output_points_topic': ('virtual/points', 'twin sensor_msgs/PointCloud2 of a 3D lidar '
                            '(every ring, Gazebo gpu_lidar layout; at scan_rate)'),
    'scan_rate': (0.0, 'scan publish rate in Hz (0 = the lidar update_rate)'),
    'odom_rate': (0.0, 'odometry output rate cap in Hz (0 = right after every accepted input)'),
    'joint_states_rate': (0.0, 'joint-state output rate cap in Hz (0 = after every input)'),
    'odom_frame': ('odom', 'frame_id of /virtual/odom (REP-105)'),
    'base_frame': ('', 'child_frame_id label of /virtual/odom ("" = the frame whose pose it '
                       'carries: the input odometry\'s child_frame_id if it is a link fixed to '
                       'the robot\'s root, else the root link); a non-empty value only '
                       'relabels'),
    'lidar_frame': ('', 'frame_id of /virtual/scan ("" = from the robot description)'),
    'scan_qos': ('sensor_data', 'QoS of the scan output: sensor_data | reliable'),
    'input_qos': ('sensor_data', 'QoS of the joint_states/odom subscriptions: sensor_data '
                                 '(best effort: matches reliable and best-effort publishers) '
                                 '| reliable'),
    'state_qos': ('reliable', 'QoS of the virtual odometry/joint-state outputs: '
                              'reliable | sensor_data'),
    'qos_depth': (10, 'history depth (keep-last) of every publisher and subscription'),
    'stale_timeout': (0.5, 's without a good input before it is reported stale (WARN; '
                           'ERROR after 4x)'),
    'diagnostics_period': (1.0, 's between /diagnostics messages'),
    'max_future_stamp': (0.5, 's an input stamp may be ahead of this node\'s clock'),
    'unknown_joints': ('reject', 'joint_states naming joints the twin lacks: reject the '
                                 'message | ignore those names and mirror the rest'),
    'input_scan_topic': ('scan', 'physical sensor_msgs/LaserScan input of the drift check '
                                 '("" = none: only the checks that need no scan run)'),
    'drift_check': (True, 'compare the physical robot with the twin (scan beam by beam, '
                          'wheels against odometry) and name the cause of a disagreement'),
    'drift_false_alarm_rate': (1e-7, 'false alarms allowed per scan and test: sets the '
                                     'thresholds of the drift check\'s sequential tests'),
    'scan_noise_stddev': (0.01, 'range noise (1 sigma, m) of the physical lidar'),
    'output_pose_correction_topic': ('virtual/pose_correction',
                                     'scan-matched base pose when the pose drifted '
                                     '(geometry_msgs/PoseWithCovarianceStamped, frame odom)'),
    'output_world_changes_topic': ('virtual/world_changes', 'where the world changed '
                                   '(visualization_msgs/MarkerArray)'),
    'output_scan_residual_topic': ('virtual/scan_residual', 'physical minus virtual range '
                                   'per beam (sensor_msgs/LaserScan layout, NaN: no return)'),
    'output_predicted_path_topic': ('virtual/predicted_path', 'predicted base path '
                                    '(nav_msgs/Path, frame odom)'),
    'prediction_horizon': (1.0, 's ahead the predicted path reaches'),
    'prediction_rate': (10.0, 'Hz of the predicted path (0 = no prediction)'),
    'ensemble_rate': (1.0, 'Hz of the physics-ensemble prediction (uncertainty, time to '
                           'collision on /diagnostics; 0 = none)'),
    'ensemble_members': (32, 'rollouts per physics ensemble'),
    'viewer': (False, 'serve a live 3D view for Foxglove: world, robot, poses, scans, '
                      'residuals, predicted path, verdicts (ws://localhost:<viewer_port>)'),
    'viewer_port': (8765, 'WebSocket port of the live view (0 = any free port)'),
    'gz_world_name': ('', 'gazebo backend: world name ("" = from the world file)'),
    'gz_topic_prefix': ('/twin', 'gazebo backend: prefix of the Gazebo-side topics'),
    'record': ('', 'record the inputs, every virtual/* output and /diagnostics into this new '
                   'MCAP bag folder ("" = no recording; drops on /diagnostics)'),
    'gate': (True, 'judge each velocity command on cmd_vel_topic against the twin (pass, slow '
                   'or stop) and publish the gated command on virtual/cmd_vel_safe'),
    'cmd_vel_topic': ('cmd_vel', 'velocity commands to judge (geometry_msgs/Twist, or '
                                 'TwistStamped with cmd_vel_stamped)'),
    'cmd_vel_stamped': (False, 'commands are geometry_msgs/TwistStamped (nav2 on Jazzy); the '
                               'gated output has the same type'),
    'e_stop_topic': ('e_stop', 'std_msgs/Bool e-stop: true latches a stop until false '
                               'releases it'),
    'stop_horizon': (1.5, 's the robot\'s collision footprint is swept ahead at the command'),
    'safety_margin': (0.1, 'm the gated command keeps between the footprint and obstacles'),
    'source_timeout': (0.5, 's without odometry (or a scan, with input_scan_topic) after '
                            'which every command is a stop'),
    'forward_commands': (False, 'ALSO publish the gated command on forward_topic, for the '
                                'physical robot (off: the twin sends nothing to the robot)'),
    'forward_topic': ('cmd_vel_out', 'where forward_commands publishes the gated command '
                                     '(remap it to the robot\'s command input)'),
}

#: The gated command's output topic (relative, like every topic of the node).
CMD_VEL_SAFE_TOPIC = 'virtual/cmd_vel_safe'

#: Topic parameters of the node's subscriptions and of its publishers.
INPUT_TOPICS = ('input_joint_states_topic', 'input_odom_topic', 'input_scan_topic')
OUTPUT_TOPICS = ('output_joint_states_topic', 'output_odom_topic', 'output_scan_topic',
                 'output_points_topic',
                 'output_pose_correction_topic', 'output_world_changes_topic',
                 'output_scan_residual_topic', 'output_predicted_path_topic')
#: The command gate's subscriptions, and its publisher for the robot (``forward_commands``).
COMMAND_INPUT_TOPICS = ('cmd_vel_topic', 'e_stop_topic')
FORWARD_TOPIC = 'forward_topic'


@dataclass(frozen=True)
class TwinNodeConfig:
    """Validated values of every node parameter (see :data:`PARAMETERS`)."""

    backend: str
    world: str
    robot_description_file: str
    robot_description_args: tuple[str, ...]
    robot_description: str
    lidar_sensor: str
    model_name: str
    input_joint_states_topic: str
    input_odom_topic: str
    output_joint_states_topic: str
    output_odom_topic: str
    output_scan_topic: str
    output_points_topic: str
    scan_rate: float
    odom_rate: float
    joint_states_rate: float
    odom_frame: str
    base_frame: str
    lidar_frame: str
    scan_qos: str
    input_qos: str
    state_qos: str
    qos_depth: int
    stale_timeout: float
    diagnostics_period: float
    max_future_stamp: float
    unknown_joints: str
    input_scan_topic: str
    drift_check: bool
    drift_false_alarm_rate: float
    scan_noise_stddev: float
    output_pose_correction_topic: str
    output_world_changes_topic: str
    output_scan_residual_topic: str
    output_predicted_path_topic: str
    prediction_horizon: float
    prediction_rate: float
    ensemble_rate: float
    ensemble_members: int
    viewer: bool
    viewer_port: int
    gz_world_name: str
    gz_topic_prefix: str
    record: str
    gate: bool
    cmd_vel_topic: str
    cmd_vel_stamped: bool
    e_stop_topic: str
    stop_horizon: float
    safety_margin: float
    source_timeout: float
    forward_commands: bool
    forward_topic: str

    @property
    def xacro_args(self) -> dict[str, str]:
        """``robot_description_args`` as a dict."""
        return parse_name_value_args(self.robot_description_args, 'robot_description_args')

    def check_topics(self, resolve: Callable[[str], str]) -> None:
        """Refuse topics that would loop the twin or mix streams (:func:`check_topic_loops`),
        each topic parameter resolved by ``resolve`` (the node's ``resolve_topic_name``).

        :raise ConfigError: naming the parameters and the topic they share
        """
        outputs = {name: resolve(getattr(self, name)) for name in OUTPUT_TOPICS}
        outputs['the gated command (virtual/cmd_vel_safe)'] = resolve(CMD_VEL_SAFE_TOPIC)
        outputs[FORWARD_TOPIC] = resolve(self.forward_topic)
        check_topic_loops({name: resolve(getattr(self, name))
                           for name in (*INPUT_TOPICS, *COMMAND_INPUT_TOPICS)
                           if getattr(self, name)}, outputs)

    def gate_config(self) -> GateConfig | None:
        """The command gate's :class:`~twin_bridge.twin.safety.gate.GateConfig` (``None``
        with ``gate`` off); it expects scans when ``input_scan_topic`` is set."""
        if not self.gate:
            return None
        return GateConfig(stop_horizon=self.stop_horizon, safety_margin=self.safety_margin,
                          source_timeout=self.source_timeout,
                          scan_source=bool(self.input_scan_topic))

    def scan_rate_for(self, lidar: LidarSpec | None) -> float:
        """Scan output rate in Hz: ``scan_rate``, else ``lidar``'s update rate; 0 (no scan
        output) without a lidar."""
        if lidar is None:
            return 0.0
        return self.scan_rate or lidar.update_rate

    def session_config(self, scan_rate: float) -> SessionConfig:
        """The :class:`~twin_bridge.twin.twin_session.SessionConfig` these parameters give, for a
        scan output at ``scan_rate`` Hz (0: none; see :meth:`scan_rate_for`)."""
        return SessionConfig(stale_timeout=self.stale_timeout,
                             max_future_stamp=self.max_future_stamp,
                             scan_period=1.0 / scan_rate if scan_rate > 0 else 0.0,
                             ignore_unknown_joints=self.unknown_joints == 'ignore',
                             joint_states_rate=self.joint_states_rate,
                             odom_rate=self.odom_rate,
                             scan_input=bool(self.input_scan_topic) and self.drift_check)

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> TwinNodeConfig:
        """Build from parameter values (missing ones take their defaults) and validate.

        Integers are accepted for rates and times. :raise ConfigError: naming the parameter.
        """
        unknown = set(values) - set(PARAMETERS)
        if unknown:
            raise ConfigError(f'unknown parameter(s) {sorted(unknown)}')
        merged = {name: values.get(name, default) for name, (default, _) in PARAMETERS.items()}
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            value = merged[f.name]
            default = PARAMETERS[f.name][0]
            if value is None:
                value = default
            if isinstance(default, float):
                kwargs[f.name] = _number(f.name, value)
            elif isinstance(default, bool):
                if not isinstance(value, bool):
                    raise ConfigError(f'parameter {f.name} must be true or false, got '
                                      f'{value!r}')
                kwargs[f.name] = value
            elif isinstance(default, int):
                if isinstance(value, bool) or not isinstance(value, int):
                    raise ConfigError(f'parameter {f.name} must be an integer, got {value!r}')
                kwargs[f.name] = value
            elif isinstance(default, list):
                if isinstance(value, str) or not all(isinstance(v, str) for v in value):
                    raise ConfigError(f'parameter {f.name} must be a list of strings, '
                                      f'got {value!r}')
                kwargs[f.name] = tuple(value)
            else:
                if not isinstance(value, str):
                    raise ConfigError(f'parameter {f.name} must be a string, got {value!r}')
                kwargs[f.name] = value
        config = cls(**kwargs)
        config._validate()
        return config

    def _validate(self) -> None:
        if self.backend not in BACKENDS:
            raise ConfigError(f'parameter backend is {self.backend!r}; expected one of '
                              f'{", ".join(BACKENDS)}')
        if not self.world.strip():
            raise ConfigError('parameter world is empty; give a shipped world name or a path')
        for name in ('scan_qos', 'input_qos', 'state_qos'):
            if getattr(self, name) not in QOS_NAMES:
                raise ConfigError(f'parameter {name} is {getattr(self, name)!r}; expected one '
                                  f'of {", ".join(QOS_NAMES)}')
        if self.unknown_joints not in UNKNOWN_JOINT_POLICIES:
            raise ConfigError(f'parameter unknown_joints is {self.unknown_joints!r}; expected '
                              f'one of {", ".join(UNKNOWN_JOINT_POLICIES)}')
        for name in ('scan_rate', 'odom_rate', 'joint_states_rate', 'max_future_stamp',
                     'prediction_rate', 'ensemble_rate'):
            if getattr(self, name) < 0:
                raise ConfigError(f'parameter {name} must be >= 0, got {getattr(self, name)}')
        for name in ('stale_timeout', 'diagnostics_period', 'prediction_horizon',
                     'scan_noise_stddev', 'stop_horizon', 'source_timeout'):
            if not getattr(self, name) > 0:
                raise ConfigError(f'parameter {name} must be > 0, got {getattr(self, name)}')
        if self.safety_margin < 0:
            raise ConfigError(f'parameter safety_margin must be >= 0, got {self.safety_margin}')
        if not 0.0 < self.drift_false_alarm_rate < 0.5:
            raise ConfigError('parameter drift_false_alarm_rate must be in (0, 0.5), got '
                              f'{self.drift_false_alarm_rate}')
        if not 1 <= self.ensemble_members <= 1024:
            raise ConfigError(f'parameter ensemble_members must be within 1..1024, got '
                              f'{self.ensemble_members}')
        if not 0 <= self.viewer_port <= 65535:
            raise ConfigError(f'parameter viewer_port must be within 0..65535, got '
                              f'{self.viewer_port}')
        if self.qos_depth < 1:
            raise ConfigError(f'parameter qos_depth must be >= 1, got {self.qos_depth}')
        for name in ('input_joint_states_topic', 'input_odom_topic', *OUTPUT_TOPICS,
                     'odom_frame', 'model_name', 'cmd_vel_topic', 'e_stop_topic',
                     'forward_topic'):
            if not getattr(self, name).strip():
                raise ConfigError(f'parameter {name} must not be empty')
        parse_name_value_args(self.robot_description_args, 'robot_description_args')


def check_topic_loops(inputs: Mapping[str, str], outputs: Mapping[str, str]) -> None:
    """Refuse an output that resolves to an input topic (the twin would feed itself) and
    outputs or inputs sharing a topic.

    :param inputs: ``{parameter name: resolved topic}`` of the subscriptions
    :param outputs: ``{parameter name: resolved topic}`` of the publishers
    :raise ConfigError: e.g. ``output_odom_topic resolves to /odom, which is the
        input_odom_topic: the twin would feed itself``
    """
    owner = {topic: name for name, topic in inputs.items()}
    for name, topic in outputs.items():
        if topic in owner:
            raise ConfigError(f'{name} resolves to {topic}, which is the {owner[topic]}: '
                              'the twin would feed itself')
    for kind, topics in (('input', inputs), ('output', outputs)):
        seen: dict[str, str] = {}
        for name, topic in topics.items():
            if topic in seen:
                raise ConfigError(f'{seen[topic]} and {name} both resolve to {topic}: each '
                                  f'{kind} needs a topic of its own')
            seen[topic] = name


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f'parameter {name} must be a number, got {value!r}')
    value = float(value)
    if not math.isfinite(value):
        raise ConfigError(f'parameter {name} must be finite, got {value}')
    return value


def wants_help(argv: list[str]) -> bool:
    """Whether ``-h``/``--help`` stands among a node's own arguments (before ``--ros-args``)."""
    plain = argv[:argv.index('--ros-args')] if '--ros-args' in argv else argv
    return '--help' in plain or '-h' in plain


def help_text(program: str = 'twin_bridge') -> str:
    """Usage text listing every parameter with its default and description."""
    lines = [
        f'usage: {program} [--ros-args -p NAME:=VALUE ... --params-file FILE]',
        '',
        'Mirrors a physical robot\'s joint_states and odom into a simulated twin and publishes',
        'virtual/joint_states, virtual/odom, virtual/scan and /diagnostics; compares the',
        'physical scan with the twin (drift: pose, world, lidar, wheels) and predicts the path.',
        'Judges velocity commands (cmd_vel -> virtual/cmd_vel_safe: pass, slow or stop); it',
        'sends nothing to the robot unless forward_commands is true.',
        '',
        'parameters (default):',
    ]
    lines += parameter_help(PARAMETERS)
    lines += ['', 'example: twin_bridge --ros-args -p world:=obstacle_course '
                  '-p scan_rate:=10.0 -r __ns:=/robot1']
    return '\n'.join(lines)


def parameter_help(parameters: Mapping[str, tuple[Any, str]], width: int = 100) -> list[str]:
    """Help lines for ``{name: (default, description)}``: one entry per parameter, its
    description and ``(default)`` wrapped to ``width`` columns under the description."""
    indent = max(len(name) for name in parameters) + 4
    lines = []
    for name, (default, description) in parameters.items():
        shown = '[]' if default == [''] else repr(default)  # ROS needs a typed empty list
        lines += textwrap.wrap(f'{description} ({shown})', width,
                               initial_indent=f'  {name:<{indent - 4}}  ',
                               subsequent_indent=' ' * indent, break_long_words=False)
    return lines
