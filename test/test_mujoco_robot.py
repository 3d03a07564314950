"""Tests for twin_bridge.embedded.mujoco_robot: URDF robots turned into MuJoCo specs."""

import logging
from pathlib import Path
import shutil

import mujoco
import numpy as np
import pytest

from twin_bridge.core.transforms import quat_wxyz_to_xyzw
from twin_bridge.description.robot_description import (
    default_robot_path,
    load_robot_description,
    parse_urdf,
)
from twin_bridge.embedded.mujoco_robot import (
    FREE_JOINT_NAME,
    LIDAR_SITE_NAME,
    ROBOT_GEOM_GROUP,
    robot_spec,
)
from twin_bridge.errors import RobotDescriptionError

ROBOTS = Path(__file__).resolve().parent / 'data' / 'robots'
TB3_PACKAGE = ROBOTS / 'tb3_like_description'
TB3 = TB3_PACKAGE / 'urdf' / 'tb3_like.urdf'
NAV2 = ROBOTS / 'nav2_like.urdf'


def compiled(robot):
    model = robot_spec(robot).compile()
    data = mujoco.MjData(model)
    mujoco.mj_kinematics(model, data)
    return model, data


def mesh_extents(model, name_start: str) -> np.ndarray:
    ids = [i for i in range(model.nmesh) if model.mesh(i).name.startswith(name_start)]
    assert len(ids) == 1, [model.mesh(i).name for i in range(model.nmesh)]
    mesh = ids[0]
    start, count = model.mesh_vertadr[mesh], model.mesh_vertnum[mesh]
    verts = model.mesh_vert[start:start + count]
    return np.sort(verts.max(axis=0) - verts.min(axis=0))


def test_default_robot_structure():
    robot = load_robot_description(default_robot_path())
    model, data = compiled(robot)
    free = model.joint(FREE_JOINT_NAME)
    assert free.type[0] == mujoco.mjtJoint.mjJNT_FREE
    assert model.body(free.bodyid[0]).name == 'base_link'
    assert model.nq == 7 + 4 and model.nv == 6 + 4
    assert set(model.geom_group) == {ROBOT_GEOM_GROUP}
    # Wheels: velocity servos; pan/tilt: position servos limited to the joint range.
    for name in ('left_wheel_joint', 'right_wheel_joint'):
        act = model.actuator(name)
        assert model.joint(act.trnid[0]).name == name
        assert act.biasprm[2] < 0 and act.biasprm[1] == 0  # -kv * qvel
    for name, limit in (('pan_joint', 2.5), ('tilt_joint', 0.7)):
        act = model.actuator(name)
        assert act.biasprm[1] < 0  # -kp * qpos
        np.testing.assert_allclose(act.ctrlrange, [-limit, limit])
        assert model.joint(name).limited[0]
    # Torque limits from the URDF <limit effort>.
    np.testing.assert_allclose(model.actuator_forcerange, [[-5, 5], [-5, 5], [-2, 2], [-2, 2]])
    assert np.all(model.actuator_forcelimited)
    assert not model.joint('left_wheel_joint').limited[0]
    # Lidar site at the link pose in the base frame.
    np.testing.assert_allclose(data.site(LIDAR_SITE_NAME).xpos, [0.1, 0.0, 0.30], atol=1e-12)
    # Caster: frictionless collision geoms that win contact-parameter mixing.
    caster = model.body('caster_link').id
    colliding = [g for g in range(model.ngeom)
                 if model.geom_bodyid[g] == caster and model.geom_contype[g]]
    assert colliding
    for g in colliding:
        assert model.geom_priority[g] == 1 and model.geom_condim[g] == 1
        assert np.all(model.geom_friction[g] == 0)
    wheel = model.body('left_wheel_link').id
    assert all(model.geom_friction[g][0] > 0 for g in range(model.ngeom)
               if model.geom_bodyid[g] == wheel)


def test_visuals_and_fixed_links_are_kept():
    model, _ = compiled(load_robot_description(default_robot_path()))
    for link in ('caster_link', 'lidar_link', 'tilt_link'):
        assert model.body(link).id > 0
    visual = [g for g in range(model.ngeom) if model.geom_contype[g] == 0
              and model.geom_conaffinity[g] == 0]
    assert len(visual) >= 7


def test_tb3_style_robot_meshes_from_source_tree():
    robot = load_robot_description(TB3)
    model, data = compiled(robot)
    assert model.body(model.joint(FREE_JOINT_NAME).bodyid[0]).name == 'base_footprint'
    # STL in millimetres with URDF scale 0.001; COLLADA in centimetres (<unit meter="0.01">).
    np.testing.assert_allclose(mesh_extents(model, 'burger_base'), [0.12, 0.14, 0.14],
                               atol=1e-6)
    np.testing.assert_allclose(mesh_extents(model, 'lds'), [0.03, 0.07, 0.07], atol=2e-3)
    # The same wheel mesh used twice is one asset.
    assert sum(model.mesh(i).name.startswith('left_tire') for i in range(model.nmesh)) == 1
    # Box caster (named as one) is frictionless.
    caster = model.body('caster_back_link').id
    assert all(model.geom_friction[g][0] == 0 for g in range(model.ngeom)
               if model.geom_bodyid[g] == caster)
    # Lidar site at the sensor <pose> inside base_scan.
    expected = robot.link_pose('base_scan').compose(robot.lidar.pose).position
    np.testing.assert_allclose(data.site(LIDAR_SITE_NAME).xpos, expected, atol=1e-9)


def test_package_uri_through_the_ament_index(tmp_path, monkeypatch):
    prefix = tmp_path / 'install'
    index = prefix / 'share' / 'ament_index' / 'resource_index' / 'packages'
    index.mkdir(parents=True)
    (index / 'tb3_like_description').touch()
    shutil.copytree(TB3_PACKAGE, prefix / 'share' / 'tb3_like_description')
    # The URDF elsewhere, so only the ament index can resolve package://.
    urdf = tmp_path / 'robot.urdf'
    shutil.copy(TB3, urdf)
    monkeypatch.setenv('AMENT_PREFIX_PATH', str(prefix))
    model, _ = compiled(load_robot_description(urdf))
    assert model.nmesh == 3
    monkeypatch.setenv('AMENT_PREFIX_PATH', str(tmp_path / 'empty'))
    with pytest.raises(RobotDescriptionError, match='package://tb3_like_description'):
        robot_spec(load_robot_description(urdf))


def test_nav2_style_robot_with_sensor_pose():
    robot = load_robot_description(NAV2)
    model, data = compiled(robot)
    site = data.site(LIDAR_SITE_NAME)
    np.testing.assert_allclose(site.xpos, [0.05, 0.02, 0.15], atol=1e-12)
    quat = np.zeros(4)
    mujoco.mju_mat2Quat(quat, site.xmat)
    np.testing.assert_allclose(quat_wxyz_to_xyzw(quat), [0, 0, np.sin(0.25), np.cos(0.25)],
                               atol=1e-12)
    caster = model.body('front_caster').id
    assert all(model.geom_priority[g] == 1 for g in range(model.ngeom)
               if model.geom_bodyid[g] == caster and model.geom_contype[g])


def test_missing_mesh_names_link_and_uri(tmp_path):
    urdf = tmp_path / 'r.urdf'
    urdf.write_text('<robot name="r"><link name="body"><collision><geometry>'
                    '<mesh filename="meshes/gone.stl"/></geometry></collision></link></robot>')
    with pytest.raises(RobotDescriptionError) as info:
        robot_spec(load_robot_description(urdf))
    message = str(info.value)
    assert str(urdf) in message and 'link "body"' in message and 'meshes/gone.stl' in message


def test_unreadable_mesh_is_a_robot_error_in_a_collision_and_a_warning_in_a_visual(tmp_path,
                                                                                    caplog):
    (tmp_path / 'broken.stl').write_text('solid nothing here\nendsolid\n')
    (tmp_path / 'shape.ply').write_text('ply\n')
    for name in ('broken.stl', 'shape.ply'):
        urdf = tmp_path / f'{name}.urdf'
        urdf.write_text(f'<robot name="r"><link name="body"><collision><geometry>'
                        f'<mesh filename="{name}"/></geometry></collision></link></robot>')
        with pytest.raises(RobotDescriptionError, match=name):
            robot_spec(load_robot_description(urdf))
        urdf.write_text(urdf.read_text().replace('collision>', 'visual>'))
        caplog.clear()
        robot_spec(load_robot_description(urdf))  # visual only: the twin still starts
        assert any(name in r.getMessage() and 'visual' in r.getMessage()
                   for r in caplog.records if r.levelno == logging.WARNING)


def test_relative_and_file_uri_meshes(tmp_path):
    mesh = TB3_PACKAGE / 'meshes' / 'wheels' / 'left_tire.stl'
    shutil.copy(mesh, tmp_path / 'tire.stl')
    urdf = tmp_path / 'r.urdf'
    urdf.write_text(f'''<robot name="r"><link name="body">
        <visual><geometry><mesh filename="tire.stl" scale="0.001 0.001 0.001"/></geometry></visual>
        <collision><geometry><mesh filename="file://{mesh}" scale="0.002 0.002 0.002"/>
        </geometry></collision></link></robot>''')
    model, _ = compiled(load_robot_description(urdf))
    assert model.nmesh == 2
    # Wheel: 66 mm diameter in millimetres, scaled by 0.001 and by 0.002.
    assert mesh_extents(model, 'tire_')[-1] == pytest.approx(0.066, abs=2e-3)
    assert mesh_extents(model, 'left_tire')[-1] == pytest.approx(0.132, abs=2e-3)


def test_fixed_base_robot_is_refused_clearly():
    urdf = ('<robot name="arm"><link name="world"/><link name="base"/>'
            '<joint name="fix" type="fixed"><parent link="world"/><child link="base"/></joint>'
            '</robot>')
    with pytest.raises(RobotDescriptionError, match='arm.urdf: root link "world"'):
        robot_spec(parse_urdf(urdf, source='arm.urdf'))


def test_floating_joint_is_held_fixed_with_a_warning(caplog):
    urdf = ('<robot name="r"><link name="base"><collision><geometry><box size="0.1 0.1 0.1"/>'
            '</geometry></collision></link><link name="payload"><collision><geometry>'
            '<sphere radius="0.05"/></geometry></collision></link>'
            '<joint name="payload_joint" type="floating"><parent link="base"/>'
            '<child link="payload"/><origin xyz="0 0 0.2"/></joint></robot>')
    with caplog.at_level('WARNING', logger='twin_bridge.embedded.mujoco_robot'):
        model, data = compiled(parse_urdf(urdf, source='float.urdf'))
    assert 'floating joint "payload_joint"' in caplog.text and 'float.urdf' in caplog.text
    assert model.njnt == 1  # only the base's free joint
    np.testing.assert_allclose(data.body('payload').xpos, [0, 0, 0.2], atol=1e-12)


def test_mimic_joint_has_an_equality_not_an_actuator():
    urdf = ('<robot name="r"><link name="base"/><link name="a"/><link name="b"/>'
            '<joint name="ja" type="revolute"><parent link="base"/><child link="a"/>'
            '<axis xyz="0 0 1"/><limit lower="-1" upper="1"/></joint>'
            '<joint name="jb" type="revolute"><parent link="base"/><child link="b"/>'
            '<axis xyz="0 0 1"/><limit lower="-1" upper="1"/>'
            '<mimic joint="ja" multiplier="2"/></joint></robot>')
    model, _ = compiled(parse_urdf(urdf))
    assert [model.actuator(i).name for i in range(model.nu)] == ['ja']
    assert model.neq == 1 and model.eq_type[0] == mujoco.mjtEq.mjEQ_JOINT
