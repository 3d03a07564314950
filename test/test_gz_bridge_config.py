"""ros_gz_bridge config: generation from a robot, YAML loading and validation."""

from pathlib import Path

import pytest
import yaml

from twin_bridge.description.robot_description import default_robot_path, load_robot_description
from twin_bridge.errors import ConfigError
from twin_bridge.gazebo.gz_bridge_config import (
    ALLOWED_KEYS,
    GZ_TO_ROS,
    ROS_TO_GZ,
    TYPE_PAIRS,
    BridgeConfig,
    ServiceBridge,
    clock_bridge_argument,
    generate_bridge_config,
    load_bridge_config,
    merge_services,
    parse_bridge_config,
    required_bridge_config,
)

REPO = Path(__file__).resolve().parent.parent
SHIPPED = REPO / 'config' / 'gz_bridge.yaml'


@pytest.fixture(scope='module')
def robot():
    return load_robot_description(default_robot_path())


def _entry(**overrides):
    base = {'topic_name': '/a', 'ros_type_name': 'std_msgs/msg/Float64',
            'gz_type_name': 'gz.msgs.Double', 'direction': 'ROS_TO_GZ'}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def test_generated_config_bridges_sensors_in_and_joint_commands_out(robot):
    config = generate_bridge_config(robot, world_name='warehouse')
    by_topic = {e.ros_topic: e for e in config.entries}
    assert by_topic['/twin/scan'].direction == GZ_TO_ROS
    assert by_topic['/twin/scan'].gz_type == 'gz.msgs.LaserScan'
    assert by_topic['/twin/odometry'].ros_type == 'nav_msgs/msg/Odometry'
    assert by_topic['/twin/joint_states'].gz_type == 'gz.msgs.Model'
    commands = [e for e in config.entries if e.direction == ROS_TO_GZ]
    assert [e.gz_topic for e in commands] == [
        f'/twin/joint/{j}/cmd_pos' for j in robot.movable_joint_names]
    assert all(e.ros_type == 'std_msgs/msg/Float64' and e.subscriber_queue == 1
               for e in commands)
    assert not config.has_clock
    assert config.arguments() == [
        '/world/warehouse/set_pose@ros_gz_interfaces/srv/SetEntityPose'
        '@gz.msgs.Pose@gz.msgs.Boolean']


def test_generated_config_round_trips_through_yaml_and_validates(robot):
    config = generate_bridge_config(robot, include_clock=True)
    parsed = parse_bridge_config(yaml.safe_load(config.to_yaml('header')))
    assert parsed.entries == config.entries
    assert parsed.has_clock


def test_namespace_and_prefix_change_ros_and_gz_names(robot):
    config = generate_bridge_config(robot, gz_topic_prefix='/r1/twin', namespace='robot1')
    scan = config.entries[0]
    assert (scan.ros_topic, scan.gz_topic) == ('/robot1/twin/scan', '/twin/scan')
    # the lidar <topic> of this description is /twin/scan: that is where Gazebo publishes it
    odom = config.entry('/robot1/r1/twin/odometry')
    assert odom is not None and odom.gz_topic == '/r1/twin/odometry'
    assert 'ros_topic_name' in odom.to_dict() and 'topic_name' not in odom.to_dict()


def test_prefixed_robot_gets_prefixed_joint_topics():
    robot = load_robot_description(default_robot_path(), {'prefix': 'r1_', 'lidar': 'false'})
    config = generate_bridge_config(robot)
    topics = {e.gz_topic for e in config.entries}
    assert '/twin/joint/r1_pan_joint/cmd_pos' in topics
    assert '/twin/scan' not in topics  # no lidar, no scan bridge


def test_shipped_yaml_is_what_the_generator_produces_for_the_default_robot(robot):
    shipped = load_bridge_config(SHIPPED, robot=robot)
    assert shipped.entries == generate_bridge_config(robot).entries


def test_load_requires_every_topic_the_twin_needs(robot, tmp_path):
    data = yaml.safe_load(SHIPPED.read_text())
    dropped = [e for e in data if 'pan_joint' not in e['topic_name']]
    path = tmp_path / 'partial.yaml'
    path.write_text(yaml.safe_dump(dropped))
    with pytest.raises(ConfigError, match='pan_joint') as info:
        load_bridge_config(path, robot=robot)
    assert 'partial.yaml' in str(info.value)
    # valid on its own, just incomplete for this robot
    assert len(load_bridge_config(path).entries) == len(dropped)


def test_a_wrong_direction_does_not_cover_what_is_needed(robot, tmp_path):
    data = yaml.safe_load(SHIPPED.read_text())
    for entry in data:
        if entry['topic_name'] == '/twin/odometry':
            entry['direction'] = 'ROS_TO_GZ'
    path = tmp_path / 'backwards.yaml'
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match='/twin/odometry'):
        load_bridge_config(path, robot=robot)


def test_bidirectional_covers_a_one_way_need(robot):
    needed = required_bridge_config(robot)
    both = BridgeConfig(tuple(
        type(e)(e.ros_topic, e.gz_topic, e.ros_type, e.gz_type, 'BIDIRECTIONAL')
        for e in needed.entries))
    assert both.missing(needed) == []


def test_ignition_type_spelling_is_accepted():
    config = parse_bridge_config([_entry(gz_type_name='ignition.msgs.Double')])
    assert config.entries[0].gz_type == 'ignition.msgs.Double'


@pytest.mark.parametrize('entry, message', [
    (_entry(qos='reliable'), "unknown key.*'qos'"),
    (_entry(direction='BOTH'), "direction 'BOTH'"),
    (_entry(gz_type_name='gz.msgs.Float'), 'bridges to'),
    (_entry(ros_type_name='my_msgs/msg/Thing'), 'not one the bridge converts'),
    (_entry(gz_type_name=None), 'must be set'),
    (_entry(ros_topic_name='/b'), 'mutually exclusive'),
    (_entry(topic_name=None), 'needs topic_name'),
    (_entry(topic_name=''), 'non-empty'),
    (_entry(subscriber_queue=0), 'positive integer'),
    (_entry(publisher_queue='10'), 'positive integer'),
    (_entry(lazy='yes'), 'lazy'),
    (_entry(publish_optical_frame=True), 'optical'),
    ('just a string', 'must be a map'),
])
def test_bad_entries_are_rejected_naming_source_and_entry(entry, message):
    with pytest.raises(ConfigError, match=message) as info:
        parse_bridge_config([_entry(topic_name='/ok'), entry], source='my.yaml')
    assert 'my.yaml: entry 1' in str(info.value)


def test_top_level_must_be_a_list():
    with pytest.raises(ConfigError, match='top level'):
        parse_bridge_config({'topic_name': '/a'})
    assert parse_bridge_config(None).entries == ()


def test_duplicate_topics_are_rejected():
    with pytest.raises(ConfigError, match='again'):
        parse_bridge_config([_entry(), _entry()])
    scan = {'ros_type_name': 'sensor_msgs/msg/LaserScan', 'gz_type_name': 'gz.msgs.LaserScan',
            'direction': 'GZ_TO_ROS'}
    with pytest.raises(ConfigError, match='/scan towards ROS'):
        parse_bridge_config([{**scan, 'ros_topic_name': '/scan', 'gz_topic_name': '/a'},
                             {**scan, 'ros_topic_name': '/scan', 'gz_topic_name': '/b'}])
    # one gz topic fanned out to two ROS topics is fine
    fanned = parse_bridge_config([{**scan, 'ros_topic_name': '/x', 'gz_topic_name': '/a'},
                                  {**scan, 'ros_topic_name': '/y', 'gz_topic_name': '/a'}])
    assert [(e.ros_topic, e.gz_topic) for e in fanned.entries] == [('/x', '/a'), ('/y', '/a')]


def test_clock_bridged_exactly_once_and_only_from_gazebo():
    clock = {'topic_name': '/clock', 'ros_type_name': 'rosgraph_msgs/msg/Clock',
             'gz_type_name': 'gz.msgs.Clock', 'direction': 'GZ_TO_ROS'}
    assert parse_bridge_config([clock]).has_clock
    with pytest.raises(ConfigError, match='2 times'):
        parse_bridge_config([clock, {**clock, 'topic_name': '/world/w/clock'}])
    with pytest.raises(ConfigError, match='GZ_TO_ROS only'):
        parse_bridge_config([{**clock, 'direction': 'BIDIRECTIONAL'}])
    assert clock_bridge_argument() == '/clock@rosgraph_msgs/msg/Clock[gz.msgs.Clock'


def test_file_errors_name_the_file(tmp_path):
    with pytest.raises(ConfigError, match='cannot read'):
        load_bridge_config(tmp_path / 'missing.yaml')
    bad = tmp_path / 'bad.yaml'
    bad.write_text('- topic_name: [unclosed\n')
    with pytest.raises(ConfigError, match='bad.yaml: not valid YAML'):
        load_bridge_config(bad)


def test_merge_services_adds_each_service_once():
    service = ServiceBridge('/world/w/set_pose', 'ros_gz_interfaces/srv/SetEntityPose')
    merged = merge_services(merge_services(BridgeConfig(), [service]), [service])
    assert merged.services == (service,)


def test_every_key_and_type_pair_in_the_tables_is_what_reference_lists():
    for ros_type, gz_types in {'sensor_msgs/msg/LaserScan': 'gz.msgs.LaserScan',
                               'nav_msgs/msg/Odometry': 'gz.msgs.Odometry',
                               'sensor_msgs/msg/JointState': 'gz.msgs.Model',
                               'rosgraph_msgs/msg/Clock': 'gz.msgs.Clock',
                               'std_msgs/msg/Float64': 'gz.msgs.Double',
                               'tf2_msgs/msg/TFMessage': 'gz.msgs.Pose_V'}.items():
        assert gz_types in TYPE_PAIRS[ros_type]
    assert {'topic_name', 'ros_topic_name', 'gz_topic_name', 'direction', 'lazy'} <= ALLOWED_KEYS


CONFIG_YAML = sorted((REPO / 'config').glob('*.yaml'))
# Bridge configs are lists of entries; the other YAML files there are node parameter files.
BRIDGE_YAML = [p for p in CONFIG_YAML if isinstance(yaml.safe_load(p.read_text()), list)]


def _data_config_loaders():
    """The config files that are neither bridge configs nor node parameters, each with the
    loader that validates it (unknown keys are errors there)."""
    from twin_bridge.fleet.fleet_spec import load_fleet_file
    from twin_bridge.learning.randomization import read_randomization
    from twin_bridge.learning.synthetic_config import load_synthetic_config
    return {'fleet_example.yaml': load_fleet_file,
            'nav_randomization.yaml': read_randomization,
            'synthetic_data.yaml': load_synthetic_config}


def test_config_yaml_is_bridge_configs_parameter_files_or_known_data_configs():
    assert SHIPPED in BRIDGE_YAML
    loaders = _data_config_loaders()
    for path in set(CONFIG_YAML) - set(BRIDGE_YAML):
        data = yaml.safe_load(path.read_text())
        assert isinstance(data, dict) and data, path.name
        if path.name in loaders:
            assert loaders[path.name](path) is not None, path.name
        else:
            assert all(isinstance(node, dict) and 'ros__parameters' in node
                       for node in data.values()), path.name


@pytest.mark.parametrize('path', BRIDGE_YAML, ids=lambda p: p.name)
def test_every_bridge_yaml_in_config_validates(path):
    data = yaml.safe_load(path.read_text())
    config = load_bridge_config(path)  # raises ConfigError naming the entry if invalid
    assert len(config.entries) == len(data) > 0
    for entry, raw in zip(config.entries, data, strict=True):
        assert entry.ros_topic == raw.get('ros_topic_name', raw.get('topic_name')), raw
        assert entry.direction == raw['direction'], raw
