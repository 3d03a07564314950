"""Robots a ROS user brings (TurtleBot3-style URDF, nav2 sam_bot-style xacro, grippers, masts,
rotated and 3D lidars), loaded into the embedded backend with the packages found through a
fake ament prefix, as after ``colcon build`` and ``source install/setup.bash``."""

from __future__ import annotations

import logging
import math
from pathlib import Path
import time

import mujoco
import numpy as np
import pytest

from twin_bridge.core.state import JointStateSample, OdometrySample
from twin_bridge.description.robot_description import load_robot_description
from twin_bridge.embedded.embedded_backend import ROBOT_PREFIX, EmbeddedBackend
from twin_bridge.errors import RobotDescriptionError, TwinBridgeError
from twin_bridge.twin.twin_session import TwinSession

DATA = Path(__file__).resolve().parent / 'data' / 'ecosystem' / 'robots'
TB3_URDF = DATA / 'turtlebot3_burger_style.urdf'
SAM_BOT_XACRO = DATA / 'sam_bot_description' / 'urdf' / 'sam_bot.urdf.xacro'
IDENTITY = np.array([0.0, 0.0, 0.0, 1.0])



def _place_base(backend, position) -> None:
    """Put the robot's root at ``position``, unrotated (a checked, root-frame pose)."""
    backend.mirror(OdometrySample(position=np.asarray(position, float),
                                  orientation=np.array([0.0, 0.0, 0.0, 1.0])))

def _write_stl_box(path: Path, size: tuple[float, float, float]) -> None:
    """An ASCII STL box of ``size`` (file units) centred on the origin."""
    path.parent.mkdir(parents=True, exist_ok=True)
    half = np.asarray(size, dtype=float) / 2
    corners = np.array([[sx, sy, sz] for sz in (-1, 1) for sy in (-1, 1) for sx in (-1, 1)]) * half
    faces = ((0, 2, 1), (1, 2, 3), (4, 5, 6), (5, 7, 6), (0, 1, 4), (1, 5, 4), (2, 6, 3),
             (3, 6, 7), (0, 4, 2), (2, 4, 6), (1, 3, 5), (3, 7, 5))
    lines = ['solid box']
    for face in faces:
        lines += ['  facet normal 0 0 0', '    outer loop']
        lines += [f'      vertex {x:g} {y:g} {z:g}' for x, y, z in corners[list(face)]]
        lines += ['    endloop', '  endfacet']
    path.write_text('\n'.join([*lines, 'endsolid box', '']), encoding='ascii')


@pytest.fixture()
def ament_prefix(tmp_path, monkeypatch):
    """An install prefix holding turtlebot3_description (STL meshes in mm) and
    sam_bot_description (the test data package), on ``AMENT_PREFIX_PATH``."""
    prefix = tmp_path / 'install'
    index = prefix / 'share' / 'ament_index' / 'resource_index' / 'packages'
    index.mkdir(parents=True)
    for package in ('turtlebot3_description', 'sam_bot_description'):
        (index / package).write_text('', encoding='utf-8')
    (prefix / 'share' / 'sam_bot_description').symlink_to(DATA / 'sam_bot_description')
    meshes = prefix / 'share' / 'turtlebot3_description' / 'meshes'
    _write_stl_box(meshes / 'bases' / 'burger_base.stl', (140, 140, 143))
    _write_stl_box(meshes / 'wheels' / 'left_tire.stl', (66, 18, 66))
    _write_stl_box(meshes / 'wheels' / 'right_tire.stl', (66, 18, 66))
    _write_stl_box(meshes / 'sensors' / 'lds.stl', (100, 100, 30))
    monkeypatch.setenv('AMENT_PREFIX_PATH', str(prefix))
    return prefix


def _box_world(tmp_path: Path, boxes: dict[str, tuple[tuple[float, ...], tuple[float, ...]]]
               ) -> Path:
    """A world of static boxes: name -> (centre xyz, size xyz)."""
    models = ''.join(
        f'<model name="{name}"><static>true</static><pose>{c[0]} {c[1]} {c[2]} 0 0 0</pose>'
        f'<link name="link"><collision name="c"><geometry><box><size>{s[0]} {s[1]} {s[2]}'
        '</size></box></geometry></collision></link></model>\n'
        for name, (c, s) in boxes.items())
    path = tmp_path / 'boxes.sdf'
    path.write_text(f'<?xml version="1.0"?>\n<sdf version="1.9"><world name="boxes">\n{models}'
                    '</world></sdf>\n', encoding='utf-8')
    return path


def _range_at(scan, radians: float) -> float:
    """Range of the beam closest to ``radians`` in the sensor frame."""
    angles = scan.angle_min + scan.angle_increment * np.arange(len(scan.ranges))
    diff = np.abs(np.angle(np.exp(1j * (angles - radians))))
    return float(scan.ranges[int(np.argmin(diff))])


# Obstacles around the origin: a wall with its face at x = 2 (narrow in y) and one with its
# face at y = 1 (narrow in x); both 1 m tall.
CROSS = {'east': ((2.1, 0.0, 0.5), (0.2, 0.6, 1.0)),
         'north': ((0.0, 1.1, 0.5), (0.4, 0.2, 1.0))}


# -- TurtleBot3 burger style -------------------------------------------------------------------

def test_turtlebot3_style_urdf(ament_prefix, tmp_path):
    robot = load_robot_description(TB3_URDF)
    assert robot.root_link == 'base_footprint'
    assert robot.wheel_joint_names == ('wheel_left_joint', 'wheel_right_joint')
    lidar = robot.lidar
    assert (lidar.link, lidar.frame_id, lidar.samples) == ('base_scan', 'base_scan', 360)
    assert (lidar.min_angle, lidar.max_angle, lidar.range_min, lidar.range_max) == (
        0.0, 6.28, 0.12, 3.5)
    assert lidar.update_rate == 5.0 and lidar.topic == 'scan'
    backend = EmbeddedBackend(_box_world(tmp_path, CROSS), robot, lidar_noise=False)
    _place_base(backend, np.zeros(3))
    position, _ = backend.lidar_pose()
    np.testing.assert_allclose(position, [-0.032, 0.0, 0.182], atol=1e-9)
    # package:// STL meshes in millimetres with scale 0.001 became 0.14 m meshes.
    model = backend.model
    base_mesh = next(i for i in range(model.nmesh) if 'burger_base' in model.mesh(i).name)
    start, count = model.mesh_vertadr[base_mesh], model.mesh_vertnum[base_mesh]
    extent = np.ptp(model.mesh_vert[start:start + count], axis=0)
    np.testing.assert_allclose(sorted(extent), [0.14, 0.14, 0.143], atol=1e-6)
    scan = backend.scan()
    assert _range_at(scan, 0.0) == pytest.approx(2.0 + 0.032, abs=5e-3)
    assert _range_at(scan, math.pi / 2) == pytest.approx(1.0, abs=5e-3)


def test_turtlebot3_style_urdf_without_the_package_names_the_uri(tmp_path, monkeypatch):
    monkeypatch.setenv('AMENT_PREFIX_PATH', str(tmp_path))
    robot = load_robot_description(TB3_URDF)
    with pytest.raises(TwinBridgeError) as info:
        EmbeddedBackend('empty', robot)
    message = str(info.value)
    assert 'package://turtlebot3_description/meshes/' in message
    assert 'turtlebot3_description' in message and str(TB3_URDF) in message


# -- nav2 sam_bot style xacro -------------------------------------------------------------------

def _sam_bot(tmp_path, **args) -> EmbeddedBackend:
    robot = load_robot_description(SAM_BOT_XACRO, {k: str(v) for k, v in args.items()})
    backend = EmbeddedBackend(_box_world(tmp_path, CROSS), robot, lidar_noise=False)
    _place_base(backend, np.array([0.0, 0.0, 0.15]))
    return backend


def test_sam_bot_xacro_with_find_and_package_dae(ament_prefix, tmp_path):
    backend = _sam_bot(tmp_path, prefix='r1_')
    robot = backend.robot
    assert robot.root_link == 'r1_base_link'
    assert robot.wheel_joint_names == ('r1_drivewhl_l_joint', 'r1_drivewhl_r_joint')
    assert robot.lidar.frame_id == 'r1_lidar_link'  # <gz_frame_id>
    assert robot.lidar.link == 'r1_lidar_link' and robot.lidar.topic == 'scan'
    position, _ = backend.lidar_pose()
    np.testing.assert_allclose(position, [0.0, 0.0, 0.27], atol=1e-9)
    # The COLLADA housing was loaded through package:// (0.1 x 0.1 x 0.05 m).
    model = backend.model
    mesh = next(i for i in range(model.nmesh) if 'lidar' in model.mesh(i).name)
    start, count = model.mesh_vertadr[mesh], model.mesh_vertnum[mesh]
    np.testing.assert_allclose(sorted(np.ptp(model.mesh_vert[start:start + count], axis=0)),
                               [0.05, 0.1, 0.1], atol=1e-6)
    scan = backend.scan()
    assert scan.frame_id == 'r1_lidar_link'
    assert _range_at(scan, 0.0) == pytest.approx(2.0, abs=5e-3)
    assert _range_at(scan, math.pi / 2) == pytest.approx(1.0, abs=5e-3)
    # The robot's own body (0.42 m long box around the lidar) never shows up in its scan.
    assert np.all(np.abs(scan.ranges[np.isfinite(scan.ranges)]) > 0.5)


def test_sam_bot_xacro_without_ament_prefix_names_the_package(tmp_path, monkeypatch):
    monkeypatch.setenv('AMENT_PREFIX_PATH', str(tmp_path))
    with pytest.raises(RobotDescriptionError) as info:
        load_robot_description(SAM_BOT_XACRO)
    assert 'sam_bot_description' in str(info.value) and str(SAM_BOT_XACRO) in str(info.value)


def test_lidar_mounted_yawed(ament_prefix, tmp_path):
    """Yawed +90 degrees: the sensor's +x looks along world +y; ranges are in the sensor frame
    (as Gazebo reports them, for TF to place)."""
    scan = _sam_bot(tmp_path, lidar_yaw=math.pi / 2).scan()
    assert _range_at(scan, 0.0) == pytest.approx(1.0, abs=5e-3)  # world +y
    assert _range_at(scan, -math.pi / 2) == pytest.approx(2.0, abs=5e-3)  # world +x


def test_lidar_mounted_upside_down(ament_prefix, tmp_path):
    """Rolled by pi: sensor +x is still world +x, sensor +y is world -y."""
    backend = _sam_bot(tmp_path, lidar_roll=math.pi)
    _, orientation = backend.lidar_pose()
    np.testing.assert_allclose(np.abs(orientation), [1.0, 0.0, 0.0, 0.0], atol=1e-9)
    scan = backend.scan()
    assert _range_at(scan, 0.0) == pytest.approx(2.0, abs=5e-3)
    assert _range_at(scan, -math.pi / 2) == pytest.approx(1.0, abs=5e-3)  # world +y
    assert math.isinf(_range_at(scan, math.pi / 2))  # world -y: nothing there


# -- small hand-written robots ------------------------------------------------------------------

_INERTIAL = ('<inertial><mass value="0.5"/><inertia ixx="0.001" ixy="0" ixz="0" iyy="0.001" '
             'iyz="0" izz="0.001"/></inertial>')


def _link(name: str, geometry: str = '<box size="0.05 0.05 0.05"/>') -> str:
    return (f'<link name="{name}"><collision><geometry>{geometry}</geometry></collision>'
            f'{_INERTIAL}</link>')


def _rig(extra_links: str = '', extra_joints: str = '', lidar_parent: str = 'base_link',
         vertical: str = '', lidar: bool = True) -> str:
    """A diff-drive rig with a lidar 0.3 m above ``lidar_parent``."""
    sensor = (
        '<gazebo reference="lidar_link"><sensor name="lidar" type="gpu_lidar">'
        '<update_rate>10</update_rate><lidar><scan><horizontal><samples>360</samples>'
        '<resolution>1</resolution><min_angle>-3.14159</min_angle><max_angle>3.14159</max_angle>'
        f'</horizontal>{vertical}</scan><range><min>0.1</min><max>10</max></range></lidar>'
        '</sensor></gazebo>') if lidar else ''
    return f'''<robot name="rig">
  {_link('base_link', '<box size="0.3 0.2 0.1"/>')}
  {_link('left_wheel')}{_link('right_wheel')}{_link('lidar_link')}{extra_links}
  <joint name="left_wheel_joint" type="continuous"><parent link="base_link"/>
    <child link="left_wheel"/><origin xyz="0 0.12 0" rpy="-1.5708 0 0"/><axis xyz="0 0 1"/>
  </joint>
  <joint name="right_wheel_joint" type="continuous"><parent link="base_link"/>
    <child link="right_wheel"/><origin xyz="0 -0.12 0" rpy="-1.5708 0 0"/><axis xyz="0 0 1"/>
  </joint>
  <joint name="lidar_joint" type="fixed"><parent link="{lidar_parent}"/>
    <child link="lidar_link"/><origin xyz="0 0 0.3"/></joint>
  {extra_joints}
  {sensor}
</robot>'''


def test_robot_without_lidar(tmp_path):
    robot = load_robot_description(_rig(lidar=False))
    assert robot.lidar is None
    backend = EmbeddedBackend(_box_world(tmp_path, CROSS), robot)
    _place_base(backend, np.zeros(3))
    assert backend.lidar is None and backend.scan() is None
    backend.mirror(joints=JointStateSample(names=('left_wheel_joint',),
                                           positions=np.array([1.0])))
    assert backend.joint_state().positions[0] == pytest.approx(1.0)


def test_lidar_on_a_prismatic_mast_follows_the_mirrored_joint(tmp_path):
    """The lidar rides a lift: mirroring the lift raises the scan plane over a low wall to a
    high shelf board."""
    mast = ('<joint name="lift_joint" type="prismatic"><parent link="base_link"/>'
            '<child link="mast"/><axis xyz="0 0 1"/>'
            '<limit lower="0" upper="0.5" effort="100" velocity="0.2"/></joint>')
    robot = load_robot_description(_rig(_link('mast'), mast, lidar_parent='mast'))
    assert 'lift_joint' in robot.movable_joint_names
    world = _box_world(tmp_path, {'low_wall': ((1.6, 0.0, 0.2), (0.2, 2.0, 0.4)),
                                  'board': ((1.1, 0.0, 0.7), (0.2, 2.0, 0.2))})
    backend = EmbeddedBackend(world, robot, lidar_noise=False)
    _place_base(backend, np.zeros(3))
    assert _range_at(backend.scan(), 0.0) == pytest.approx(1.5, abs=5e-3)
    backend.mirror(joints=JointStateSample(names=('lift_joint',), positions=np.array([0.4])))
    np.testing.assert_allclose(backend.lidar_pose()[0], [0.0, 0.0, 0.7], atol=1e-9)
    assert _range_at(backend.scan(), 0.0) == pytest.approx(1.0, abs=5e-3)


_GRIPPER_LINKS = _link('finger_l') + _link('finger_r')
_GRIPPER_JOINTS = '''
  <joint name="finger_l_joint" type="prismatic"><parent link="base_link"/>
    <child link="finger_l"/><origin xyz="0.2 0.03 0"/><axis xyz="0 1 0"/>
    <limit lower="0" upper="0.05" effort="10" velocity="1"/></joint>
  <joint name="finger_r_joint" type="prismatic"><parent link="base_link"/>
    <child link="finger_r"/><origin xyz="0.2 -0.03 0"/><axis xyz="0 1 0"/>
    <limit lower="-0.05" upper="0" effort="10" velocity="1"/>
    <mimic joint="finger_l_joint" multiplier="-1" offset="0"/></joint>'''


def _finger_r_y(backend: EmbeddedBackend) -> float:
    mujoco.mj_kinematics(backend.model, backend.data)
    return float(backend.data.xpos[backend.model.body(ROBOT_PREFIX + 'finger_r').id][1])


def test_mimic_joint_follows_its_master_when_only_the_master_is_mirrored():
    """ros2_control's joint_state_broadcaster publishes the master of a mimic pair; the twin's
    mimic finger must move with it (virtual joint_states and geometry), not stay at zero."""
    robot = load_robot_description(_rig(_GRIPPER_LINKS, _GRIPPER_JOINTS))
    backend = EmbeddedBackend('empty', robot, lidar_noise=False)
    _place_base(backend, np.zeros(3))
    backend.mirror(joints=JointStateSample(names=('finger_l_joint',),
                                           positions=np.array([0.02])))
    state = backend.joint_state()
    if 'finger_r_joint' in state.names:
        assert state.positions[state.names.index('finger_r_joint')] == pytest.approx(-0.02)
    assert _finger_r_y(backend) == pytest.approx(-0.03 - 0.02, abs=1e-9)


def test_mimic_joint_in_the_input_is_accepted():
    """joint_state_publisher publishes mimic joints too: a message naming both is not refused."""
    robot = load_robot_description(_rig(_GRIPPER_LINKS, _GRIPPER_JOINTS))
    backend = EmbeddedBackend('empty', robot, lidar_noise=False)
    _place_base(backend, np.zeros(3))
    backend.mirror(joints=JointStateSample(names=('finger_l_joint', 'finger_r_joint'),
                                           positions=np.array([0.01, -0.01])))
    assert _finger_r_y(backend) == pytest.approx(-0.04, abs=1e-9)


@pytest.mark.parametrize('kind', ['floating', 'planar'])
def test_floating_and_planar_joints_load_or_fail_naming_the_joint(kind):
    """robot_state_publisher accepts floating/planar joints; the twin either loads the robot
    (such a joint is not mirrored from joint_states) or says which joint it cannot simulate."""
    urdf = _rig(_link('payload'), f'<joint name="payload_joint" type="{kind}">'
                '<parent link="base_link"/><child link="payload"/><origin xyz="0 0 0.2"/>'
                '<axis xyz="0 0 1"/></joint>')
    robot = load_robot_description(urdf)
    assert 'payload_joint' not in robot.movable_joint_names
    try:
        backend = EmbeddedBackend('empty', robot, lidar_noise=False)
    except RobotDescriptionError as exc:
        assert 'payload_joint' in str(exc) and kind in str(exc), str(exc)
        return
    _place_base(backend, np.array([1.0, 2.0, 0.0]))
    mujoco.mj_kinematics(backend.model, backend.data)
    # Loaded: the payload sits at its joint origin on the base.
    np.testing.assert_allclose(backend.data.xpos[backend.model.body(ROBOT_PREFIX + 'payload').id],
                               [1.0, 2.0, 0.2], atol=1e-9)


_VERTICAL = ('<vertical><samples>16</samples><resolution>1</resolution>'
             '<min_angle>-0.2618</min_angle><max_angle>0.2618</max_angle></vertical>')


def test_3d_lidar_is_read_with_all_its_rings(caplog):
    """A 16-layer lidar (vertical samples > 1) is simulated with every ring (issue 10 item 9):
    its rings are read from <vertical>, and the LaserScan is the middle ring, as ros_gz_bridge
    takes it from Gazebo's multi-ring scan."""
    robot = load_robot_description(_rig(vertical=_VERTICAL))
    lidar = robot.lidar
    assert lidar.samples == 360 and lidar.vertical_samples == 16
    assert lidar.ring_angles()[[0, -1]] == pytest.approx([-0.2618, 0.2618])
    assert lidar.scan_ring == 8
    backend = EmbeddedBackend('empty', robot, lidar_noise=False)
    assert backend.point_cloud() is not None


def test_single_layer_vertical_block_is_fine(caplog):
    """<vertical><samples>1</samples> is how many 2D lidars are written: no complaint."""
    single = ('<vertical><samples>1</samples><resolution>1</resolution>'
              '<min_angle>0</min_angle><max_angle>0</max_angle></vertical>')
    with caplog.at_level(logging.WARNING):
        robot = load_robot_description(_rig(vertical=single))
    assert robot.lidar.samples == 360
    assert not [r for r in caplog.records if 'vertical' in r.getMessage()]


# -- odometry frames ---------------------------------------------------------------------------

def test_odometry_of_base_footprint_places_base_link_above_it(ament_prefix):
    """nav2-style robots: base_link is the URDF root, base_footprint a fixed child on the
    ground below it, and odometry often reports odom -> base_footprint. Mirroring that pose
    onto base_link would sink the twin 0.15 m (its lidar scans at the wrong height). The
    twin must honour the sample's child_frame_id, or refuse it naming the frame."""
    robot = load_robot_description(SAM_BOT_XACRO)
    assert robot.root_link == 'base_link'
    backend = EmbeddedBackend('empty', robot, lidar_noise=False)
    session = TwinSession(backend)
    now = time.time_ns()
    sample = OdometrySample(position=np.array([1.0, 2.0, 0.0]), orientation=IDENTITY,
                            stamp_ns=now, child_frame_id='base_footprint')
    outcome = session.on_odometry(sample, time.monotonic(), now)
    if not outcome.accepted:
        assert 'base_footprint' in outcome.describe()
        return
    np.testing.assert_allclose(backend.lidar_pose()[0], [1.0, 2.0, 0.15 + 0.12], atol=1e-9)


def test_virtual_odom_names_the_frame_whose_pose_it_carries(ament_prefix, tmp_path):
    """TurtleBot3: the URDF root and odometry child frame is base_footprint; base_link is a
    different link 1 cm above. With default parameters /virtual/odom must not label the
    base_footprint pose as base_link."""
    from nav_msgs.msg import Odometry
    from ros_harness import RosTestContext, spawn_node

    params = {'world': 'empty', 'robot_description_file': str(TB3_URDF),
              'diagnostics_period': 0.5}
    with RosTestContext('tb3_frames_observer') as ros, spawn_node(
            'twin_bridge.ros.bridge_node', params=params, log_dir=tmp_path,
            env={'AMENT_PREFIX_PATH': str(ament_prefix)}) as proc:
        pub = ros.node.create_publisher(Odometry, 'odom', 10)
        out = ros.collect('virtual/odom', Odometry)
        assert ros.wait_for_subscribers(pub, 45.0, process=proc), proc.output()
        assert ros.wait_for_publishers('/virtual/odom', 45.0, process=proc), proc.output()
        msg = Odometry()
        msg.header.frame_id, msg.child_frame_id = 'odom', 'base_footprint'
        msg.pose.pose.position.x = 0.5
        msg.pose.pose.orientation.w = 1.0
        # Matching is not instant on a loaded machine: resend (fresh stamps) until one is out.
        deadline = time.monotonic() + 15.0
        while not len(out) and time.monotonic() < deadline and proc.running():
            msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(time.time_ns(), 10**9)
            pub.publish(msg)
            ros.spin_for(0.2)
        assert len(out) > 0, proc.output()
        assert out.last.pose.pose.position.x == pytest.approx(0.5)
        assert out.last.child_frame_id == 'base_footprint', proc.output()[-2000:]
        assert proc.stop() == 0


def test_a_second_lidar_is_not_dropped_silently(caplog):
    """AMRs often carry two 2D lidars (front and rear). The twin publishes one scan: the
    sensor it leaves out must at least be named in a warning (or both be supported)."""
    rear_link = _link('rear_lidar_link')
    rear_joint = ('<joint name="rear_lidar_joint" type="fixed"><parent link="base_link"/>'
                  '<child link="rear_lidar_link"/><origin xyz="-0.2 0 0.2" rpy="0 0 3.14159"/>'
                  '</joint>')
    rear_sensor = (
        '<gazebo reference="rear_lidar_link"><sensor name="rear_lidar" type="gpu_lidar">'
        '<lidar><scan><horizontal><samples>270</samples><min_angle>-2.35</min_angle>'
        '<max_angle>2.35</max_angle></horizontal></scan><range><min>0.1</min><max>10</max>'
        '</range></lidar></sensor></gazebo>')
    urdf = _rig(rear_link, rear_joint).replace('</robot>', rear_sensor + '</robot>')
    with caplog.at_level(logging.WARNING):
        robot = load_robot_description(urdf)
        EmbeddedBackend('empty', robot, lidar_noise=False)
    assert robot.lidar.name == 'lidar'
    assert any('rear_lidar' in r.getMessage() for r in caplog.records), (
        'the rear lidar was ignored without a word')
