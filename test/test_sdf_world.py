"""Tests for sdf_world: SDF parsing, pose composition, includes and bad input."""

import logging
from pathlib import Path
import re
import textwrap

import numpy as np
import pytest

from twin_bridge.core.transforms import rotate, yaw_from_quat
from twin_bridge.description.sdf_world import parse_world
from twin_bridge.errors import ResourceNotFoundError, WorldLoadError

DATA = Path(__file__).resolve().parent / 'data' / 'worlds'
MODELS = [DATA / 'models']


def _yaw(link_or_collision) -> float:
    return yaw_from_quat(link_or_collision.pose.orientation)


def _world_file(tmp_path: Path, body: str, version: str = '1.9', name: str = 'bad') -> Path:
    path = tmp_path / f'{name}.sdf'
    path.write_text(f'<?xml version="1.0"?>\n<sdf version="{version}">\n<world name="{name}">\n'
                    f'{textwrap.dedent(body)}\n</world>\n</sdf>\n')
    return path


def _static_model(name: str, geometry: str, link: str = 'link', collision: str = 'c') -> str:
    return (f'<model name="{name}"><static>true</static><link name="{link}">'
            f'<collision name="{collision}"><geometry>{geometry}</geometry></collision>'
            '</link></model>')


# ---- composition ---------------------------------------------------------------------------

def test_basic_world_links_static_flags_and_physics():
    world = parse_world(DATA / 'basic.sdf', search_path=MODELS)
    assert world.name == 'basic'
    assert world.version == '1.9'
    assert world.gravity == (0.0, 0.0, -9.81)
    assert world.max_step_size == pytest.approx(0.004)
    assert world.models == ('ground', 'wall', 'pillar', 'ball', 'crate_a', 'crate_b')
    static = {link.name: link.static for link in world.links}
    assert static == {'ground::link': True, 'wall::link': True, 'pillar::link': True,
                      'ball::link': False, 'crate_a::link': False, 'crate_b::link': True}
    assert world.ignored == ()
    ball = world.link('ball::link')
    assert ball.inertial.mass == pytest.approx(2.0)
    np.testing.assert_allclose(ball.inertial.inertia, np.diag([0.02] * 3))
    # Include pose override composes with the model's own link pose (z 0.25).
    np.testing.assert_allclose(world.link('crate_a::link').pose.position, [-3, -3, 0.25])
    pillar = world.link('pillar::link')
    np.testing.assert_allclose(pillar.pose.position, [0, -2, 0.5], atol=1e-12)
    assert _yaw(pillar) == pytest.approx(np.pi / 2)
    np.testing.assert_allclose(pillar.collisions[0].pose.position, [1, 0, 0])


def test_sdf_111_frames_relative_to_chains_nested_models_and_placement_frame():
    world = parse_world(DATA / 'sdf111_frames.sdf', search_path=MODELS)
    assert world.version == '1.11'
    expected = {  # scoped link -> (world position, yaw)
        'rack::base': ([10, 1, 0], np.pi / 2),          # station (degrees=true) + 1 m along x
        'rack::upper': ([9.5, 1.5, 1], np.pi / 2),      # relative_to a frame attached to base
        'rack::sub::base': ([8.5, 1.5, 1.5], np.pi),    # nested model, quat_xyzw pose
        'follower::link': ([8.5, 1.5, 2.5], np.pi),     # relative_to another model's nested link
        'post_on_top::link': ([0, -5, 1], 0.0),         # include with placement_frame "top"
        'rock::link': ([0, 5, 1], 0.0),
    }
    assert [link.name for link in world.links] == list(expected)
    for name, (position, yaw) in expected.items():
        link = world.link(name)
        np.testing.assert_allclose(link.pose.position, position, atol=1e-9, err_msg=name)
        assert abs(np.sin(_yaw(link) - yaw)) < 1e-9 and np.cos(_yaw(link) - yaw) > 0, name
    # A collision posed relative_to __model__ is re-expressed in its link frame.
    sub = world.link('rack::sub::base')
    collision_world = sub.pose.position + rotate(sub.pose.orientation,
                                                 sub.collisions[0].pose.position)
    np.testing.assert_allclose(collision_world, [9.5, 1.5, 1.5], atol=1e-9)
    assert sub.collisions[0].geometry.kind == 'ellipsoid'
    assert sub.collisions[0].geometry.size == (0.1, 0.2, 0.3)
    # model.config lists two files: the newest SDF version wins (not "wrong_file").
    assert 'post_on_top' in world.models and 'wrong_file' not in world.models
    assert world.link('follower::link').collisions[0].geometry.size == (0.1, 0.4)
    rock = world.link('rock::link')
    assert rock.inertial.auto and rock.collisions[0].density == pytest.approx(500)


def test_sdf_16_classic_world_with_frame_attribute_and_ignored_elements(caplog):
    with caplog.at_level(logging.WARNING, logger='twin_bridge.description.sdf_world'):
        world = parse_world(DATA / 'sdf16_classic.sdf')  # model://sun, ground_plane: shipped
    assert world.version == '1.6'
    assert world.gravity == (0.0, 0.0, -9.7)  # old files keep <gravity> in <physics>
    assert world.max_step_size == pytest.approx(0.002)
    assert 'ground_plane' in world.models and 'sun' not in world.models  # a light: no model
    leg = world.link('table::leg')
    np.testing.assert_allclose(leg.pose.position, [1.75, 1.5, 0.35], atol=1e-4)
    wheel = world.link('cart::wheel')
    np.testing.assert_allclose(wheel.pose.position, [-1.7, 0, 0.1], atol=1e-12)
    assert not wheel.static
    assert world.link('terrain::link').collisions == ()
    assert len(world.ignored) == 1
    assert '<heightmap>' in world.ignored[0] and '<model name="terrain">' in world.ignored[0]
    records = [r for r in caplog.records if r.name == 'twin_bridge.description.sdf_world']
    assert len(records) == 1  # one warning listing everything
    assert 'heightmap' in records[0].getMessage()
    # 1.6 joint axis: expressed in the joint frame, which is the child link's (rolled 90 deg).
    (axle,) = world.joints
    assert (axle.name, axle.type, axle.parent, axle.child) == (
        'cart::axle', 'revolute', 'cart::chassis', 'cart::wheel')
    np.testing.assert_allclose(axle.axis, [0, -1, 0], atol=1e-5)
    np.testing.assert_allclose(axle.pose.position, wheel.pose.position)


def test_shipped_world_by_name():
    world = parse_world('warehouse')
    assert world.name == 'warehouse'
    assert world.path.name == 'warehouse.sdf'
    assert any(link.name.startswith('shelf_hall_0::') for link in world.links)


def test_repeated_names_get_unique_scoped_names():
    world = parse_world(DATA / 'basic.sdf', search_path=MODELS)
    link_names = [link.name for link in world.links]
    collision_names = [c.name for link in world.links for c in link.collisions]
    assert len(set(link_names)) == len(link_names) == 6
    assert len(set(collision_names)) == len(collision_names)
    assert 'crate_a::link::collision' in collision_names
    assert 'crate_b::link::collision' in collision_names


def test_nested_static_inherits_and_include_static_false_override(tmp_path):
    path = _world_file(tmp_path, '''
        <model name="outer">
          <static>true</static>
          <model name="inner">
            <link name="link"><collision name="c"><geometry><sphere><radius>0.1</radius>
            </sphere></geometry></collision></link>
          </model>
        </model>
        <include><uri>model://crate</uri><static>false</static></include>
    ''')
    world = parse_world(path, search_path=MODELS)
    assert world.link('outer::inner::link').static
    assert not world.link('crate::link').static


def test_pose_degrees_and_joint_frame(tmp_path):
    path = _world_file(tmp_path, '''
        <model name="m">
          <pose degrees="true">0 0 0 0 0 -90</pose>
          <link name="a"><pose>1 0 0 0 0 0</pose></link>
          <link name="b"/>
          <joint name="j" type="fixed"><pose>0 0 1 0 0 0</pose><parent>a</parent><child>b</child>
          </joint>
          <frame name="f"><pose relative_to="j">0 0 0 0 0 0</pose></frame>
          <link name="c"><pose relative_to="f">0 0 0 0 0 0</pose></link>
        </model>
    ''')
    world = parse_world(path)
    np.testing.assert_allclose(world.link('m::a').pose.position, [0, -1, 0], atol=1e-12)
    assert _yaw(world.link('m::a')) == pytest.approx(-np.pi / 2)
    # The joint frame defaults to its child link (b at the model origin) + 1 m up.
    np.testing.assert_allclose(world.link('m::c').pose.position, [0, 0, 1], atol=1e-12)
    assert [(j.name, j.type, j.parent, j.child) for j in world.joints] == [
        ('m::j', 'fixed', 'm::a', 'm::b')]
    assert world.ignored == ()


# ---- bad input -----------------------------------------------------------------------------

def test_missing_world_file_names_the_file(tmp_path):
    with pytest.raises(ResourceNotFoundError, match='nowhere.sdf'):
        parse_world(tmp_path / 'nowhere.sdf')


def test_malformed_xml_names_file_and_line(tmp_path):
    path = tmp_path / 'broken.sdf'
    path.write_text('<sdf version="1.9"><world name="x">\n<model name="a">\n</world></sdf>')
    with pytest.raises(WorldLoadError, match=r'broken\.sdf: malformed XML: .*line 3'):
        parse_world(path)


def test_not_an_sdf_file(tmp_path):
    path = tmp_path / 'robot.sdf'
    path.write_text('<robot name="r"/>')
    with pytest.raises(WorldLoadError, match=r'robot\.sdf: root element is <robot>'):
        parse_world(path)
    path.write_text('<sdf version="1.9"><light name="l" type="point"/></sdf>')
    with pytest.raises(WorldLoadError, match='no <world>'):
        parse_world(path)


def test_unknown_model_uri_names_the_include(tmp_path):
    path = _world_file(tmp_path, '<include><uri>model://no_such_model_xyz</uri></include>')
    with pytest.raises(ResourceNotFoundError,
                       match=r'bad\.sdf: <world name="bad">/<include>: .*no_such_model_xyz'):
        parse_world(path)


def test_include_without_uri_and_fuel_url(tmp_path, monkeypatch):
    monkeypatch.setenv('GZ_FUEL_CACHE_PATH', str(tmp_path / 'empty_fuel_cache'))
    with pytest.raises(WorldLoadError, match='<include> without <uri>'):
        parse_world(_world_file(tmp_path, '<include><name>x</name></include>'))
    path = _world_file(tmp_path, '<include><uri>https://fuel.gazebosim.org/1.0/o/models/m'
                                 '</uri></include>')
    with pytest.raises(ResourceNotFoundError, match='not downloaded'):
        parse_world(path)


def test_missing_mesh_names_the_collision(tmp_path):
    path = _world_file(tmp_path, _static_model(
        'shelf', '<mesh><uri>meshes/gone.stl</uri></mesh>', 'a', 'c'))
    with pytest.raises(ResourceNotFoundError,
                       match=r'<model name="shelf">/<link name="a">/<collision name="c">/'
                             r'<geometry>/<mesh>: .*gone\.stl'):
        parse_world(path)


def test_error_in_included_model_names_its_file_and_the_include(tmp_path):
    model_dir = tmp_path / 'models' / 'bad_model'
    model_dir.mkdir(parents=True)
    (model_dir / 'model.sdf').write_text(
        '<sdf version="1.9">' + _static_model('bad_model', '<box><size>1 1</size></box>')
        + '</sdf>')
    path = _world_file(tmp_path, '<include><uri>model://bad_model</uri></include>')
    with pytest.raises(WorldLoadError) as info:
        parse_world(path, search_path=[tmp_path / 'models'])
    message = str(info.value)
    assert 'bad_model/model.sdf: <model name="bad_model">/<link name="link">' in message
    assert 'expected 3 numbers' in message
    assert 'included from' in message and 'bad.sdf' in message


@pytest.mark.parametrize('geometry, pattern', [
    ('<torus><radius>1</radius></torus>', r'unsupported geometry <torus> \(supported: box, '),
    ('<box><size>1 x 1</size></box>', r'<size>: bad number in "1 x 1"'),
    ('<box><size>1 1</size></box>', 'expected 3 numbers'),
    ('<box><size>1 nan 1</size></box>', 'non-finite'),
    ('<box/>', 'missing <size>'),
    ('<box><size>1 0 1</size></box>', 'must be positive'),
    ('<sphere><radius>-1</radius></sphere>', '<radius>: must be positive'),
    ('<cylinder><radius>1</radius><length>abc</length></cylinder>', 'bad number'),
    ('<plane><normal>0 0 0</normal></plane>', 'plane <normal> is zero'),
    ('<mesh><scale>1 1 1</scale></mesh>', '<mesh> without <uri>'),
    ('', 'empty <geometry>'),
])
def test_bad_geometry_names_file_and_element(tmp_path, geometry, pattern):
    path = _world_file(tmp_path, _static_model('shelf', geometry, 'a', 'c'))
    with pytest.raises(WorldLoadError) as info:
        parse_world(path)
    message = str(info.value)
    assert message.startswith(f'{path}: <world name="bad">/<model name="shelf">/<link name="a">/'
                              '<collision name="c">')
    assert re.search(pattern, message), message


@pytest.mark.parametrize('body, pattern', [
    ('<model name="m"><static>true</static><link name="a"><collision name="c"/></link></model>',
     '<collision> without <geometry>'),
    ('<model name="m"><link name="a"><pose relative_to="nope">0 0 0 0 0 0</pose></link></model>',
     'unknown frame "nope"'),
    ('<model name="m"><frame name="f" attached_to="g"/><frame name="g" attached_to="f"/>'
     '<link name="a"><pose relative_to="f">0 0 0 0 0 0</pose></link></model>', 'cycle'),
    ('<model name="m"><link name="a"><pose>1 2 3</pose></link></model>',
     r'<pose>: expected 6 numbers'),
    ('<model name="m"><link name="a"><pose rotation_format="axis">0 0 0 0 0 0</pose></link>'
     '</model>', 'unknown rotation_format'),
    ('<model name="m"><link name="a"><collision name="c"><geometry><plane/></geometry>'
     '</collision></link></model>', 'only supported in a static model'),
    ('<model name="m"><link name="a"><inertial><mass>0</mass></inertial></link></model>',
     'must be positive for a non-static link'),
    ('<model name="m"><link name="a"><inertial><mass>1</mass><inertia><ixx>-1</ixx></inertia>'
     '</inertial></link></model>', 'not positive definite'),
    ('<model name="m"><static>maybe</static></model>', 'expected true/false'),
    ('<model name="m"/><model name="m"/>', 'duplicate model name "m"'),
    ('<model name="m"><link name="a"/><link name="a"/></model>', 'duplicate link name "a"'),
    ('<model><link name="a"/></model>', 'without a name attribute'),
    ('<physics name="p"><max_step_size>-1</max_step_size></physics>', 'must be positive'),
    ('<gravity>0 0</gravity>', 'expected 3 numbers'),
])
def test_bad_model_content_is_a_named_world_load_error(tmp_path, body, pattern):
    with pytest.raises(WorldLoadError, match=pattern) as info:
        parse_world(_world_file(tmp_path, body))
    assert str(info.value).startswith(str(tmp_path / 'bad.sdf'))


def test_duplicate_include_without_name_is_an_error(tmp_path):
    path = _world_file(tmp_path, '<include><uri>model://crate</uri></include>' * 2)
    with pytest.raises(WorldLoadError, match='duplicate model name "crate"'):
        parse_world(path, search_path=MODELS)


def test_model_config_naming_a_missing_file(tmp_path):
    model_dir = tmp_path / 'models' / 'm'
    model_dir.mkdir(parents=True)
    (model_dir / 'model.config').write_text('<model><sdf version="1.9">nope.sdf</sdf></model>')
    path = _world_file(tmp_path, '<include><uri>model://m</uri></include>')
    with pytest.raises(ResourceNotFoundError, match=r'<include>: .*nope\.sdf'):
        parse_world(path, search_path=[tmp_path / 'models'])


def test_model_file_loaded_as_world(tmp_path):
    path = tmp_path / 'lonely.sdf'
    path.write_text('<sdf version="1.8">' + _static_model('lonely', '<sphere/>') + '</sdf>')
    world = parse_world(path)
    assert world.name == 'lonely'
    assert world.link('lonely::link').collisions[0].geometry.size == (1.0,)


def test_default_physics_profile_is_chosen(tmp_path):
    world = parse_world(_world_file(tmp_path, '''
        <physics name="slow" type="ode"><max_step_size>0.01</max_step_size></physics>
        <physics name="fast" type="ode" default="true"><max_step_size>0.0005</max_step_size>
        </physics>'''))
    assert world.max_step_size == pytest.approx(0.0005)
    assert world.gravity == (0.0, 0.0, -9.8)


def _model_dir(root: Path, name: str, radius: float) -> None:
    (root / name).mkdir(parents=True)
    (root / name / 'model.sdf').write_text(
        '<sdf version="1.9">' + _static_model(name, f'<sphere><radius>{radius}</radius></sphere>')
        + '</sdf>')


def test_include_search_order_extra_then_package_then_environment(tmp_path, monkeypatch):
    env_dir, extra_dir = tmp_path / 'env_models', tmp_path / 'extra_models'
    _model_dir(env_dir, 'only_in_env', 0.3)
    _model_dir(env_dir, 'ground_plane', 0.4)   # the package's own ground_plane wins over this
    _model_dir(extra_dir, 'barrel', 0.5)       # an explicit search path wins over the package
    monkeypatch.setenv('GZ_SIM_RESOURCE_PATH', str(env_dir))
    path = _world_file(tmp_path, ''.join(f'<include><uri>model://{n}</uri></include>'
                                         for n in ('only_in_env', 'ground_plane', 'barrel')))
    world = parse_world(path, search_path=[extra_dir])
    assert world.link('only_in_env::link').collisions[0].geometry.size == (0.3,)
    assert world.link('ground_plane::link').collisions[0].geometry.kind == 'plane'
    assert world.link('barrel::link').collisions[0].geometry.size == (0.5,)


def _jointed(tmp_path, joints: str):
    return parse_world(_world_file(tmp_path, f'''
        <model name="m">
          <pose>0 0 1 0 0 1.5707963267948966</pose>
          <link name="a"/>
          <link name="b"><pose>1 0 0 0 0 0</pose></link>
          <link name="c"><pose>2 0 0 0 0 0</pose></link>
          {joints}
        </model>'''))


def test_joint_axes_limits_and_frames(tmp_path):
    world = _jointed(tmp_path, '''
        <joint name="hinge" type="revolute"><parent>a</parent><child>b</child>
          <axis><xyz>1 0 0</xyz><limit><lower>-0.5</lower><upper>1.0</upper></limit>
            <dynamics><damping>0.3</damping></dynamics></axis></joint>
        <joint name="slider" type="prismatic"><parent>b</parent><child>c</child>
          <axis><xyz expressed_in="__model__">0 1 0</xyz></axis></joint>
        <joint name="to_world" type="continuous"><parent>world</parent><child>a</child>
          <axis><xyz>0 0 1</xyz><limit><lower>-1</lower><upper>1</upper></limit></axis></joint>''')
    joints = {j.name: j for j in world.joints}
    hinge, slider, spin = joints['m::hinge'], joints['m::slider'], joints['m::to_world']
    np.testing.assert_allclose(hinge.axis, [0, 1, 0], atol=1e-12)   # model yawed 90 deg
    assert (hinge.lower, hinge.upper, hinge.damping) == (-0.5, 1.0, 0.3)
    np.testing.assert_allclose(slider.axis, [-1, 0, 0], atol=1e-12)
    assert slider.lower is None and slider.upper is None
    assert spin.parent == 'world' and spin.lower is None  # continuous: never limited
    np.testing.assert_allclose(hinge.pose.position, [0, 1, 1], atol=1e-12)  # at child link b


def test_unsupported_joint_and_kinematic_loop_are_listed(tmp_path):
    world = _jointed(tmp_path, '''
        <joint name="u" type="universal"><parent>a</parent><child>b</child></joint>
        <joint name="j1" type="fixed"><parent>a</parent><child>c</child></joint>
        <joint name="j2" type="fixed"><parent>b</parent><child>c</child></joint>
        <joint name="j3" type="fixed"><parent>c</parent><child>a</child></joint>''')
    assert [j.name for j in world.joints] == ['m::j1']
    assert len(world.ignored) == 3
    assert 'universal' in world.ignored[0]
    assert 'second joint to link "m::c"' in world.ignored[1]
    assert 'kinematic loop' in world.ignored[2]


@pytest.mark.parametrize('joint, pattern', [
    ('<joint name="j" type="revolute"><parent>a</parent><child>zz</child></joint>',
     '<child> link "zz" does not exist'),
    ('<joint name="j" type="revolute"><parent>zz</parent><child>a</child></joint>',
     '<parent> link "zz" does not exist'),
    ('<joint name="j" type="revolute"><child>a</child></joint>', 'needs <parent> and <child>'),
    ('<joint name="j" type="revolute"><parent>a</parent><child>b</child><axis><xyz>0 0 0</xyz>'
     '</axis></joint>', 'axis <xyz> is zero'),
    ('<joint name="j" type="revolute"><parent>a</parent><child>b</child><axis><xyz>0 0 1</xyz>'
     '<limit><lower>1</lower><upper>0</upper></limit></axis></joint>', 'is above <upper>'),
])
def test_bad_joints_are_named_errors(tmp_path, joint, pattern):
    with pytest.raises(WorldLoadError, match=pattern) as info:
        _jointed(tmp_path, joint)
    assert '<joint name="j">' in str(info.value)


def test_merge_include_puts_links_in_the_parent_scope(tmp_path):
    arm = tmp_path / 'models' / 'arm'
    (arm / 'meshes').mkdir(parents=True)
    (arm / 'meshes' / 'cube.obj').write_bytes(
        (DATA.parent / 'meshes' / 'cube.obj').read_bytes())
    (arm / 'model.sdf').write_text('''<sdf version="1.9"><model name="arm">
        <link name="upper"><pose>0 0 0.5 0 0 0</pose>
          <collision name="c"><geometry><mesh><uri>meshes/cube.obj</uri></mesh></geometry>
          </collision></link>
      </model></sdf>''')
    path = _world_file(tmp_path, '''
        <model name="robot">
          <pose>1 0 0 0 0 0</pose>
          <link name="base"/>
          <include merge="true"><uri>model://arm</uri><pose>0 0 1 0 0 0</pose></include>
          <frame name="tip"><pose relative_to="upper">0 0 0.5 0 0 0</pose></frame>
          <link name="marker"><pose relative_to="tip">0 0 0 0 0 0</pose></link>
          <joint name="shoulder" type="revolute"><parent>base</parent><child>upper</child>
            <axis><xyz>0 1 0</xyz></axis></joint>
        </model>''')
    world = parse_world(path, search_path=[tmp_path / 'models'])
    assert [link.name for link in world.links] == ['robot::base', 'robot::marker',
                                                   'robot::upper']
    assert world.models == ('robot',)
    upper = world.link('robot::upper')
    assert upper.model == 'robot'
    np.testing.assert_allclose(upper.pose.position, [1, 0, 1.5])
    np.testing.assert_allclose(world.link('robot::marker').pose.position, [1, 0, 2])
    assert upper.collisions[0].geometry.mesh_path == arm / 'meshes' / 'cube.obj'
    assert [(j.name, j.parent, j.child) for j in world.joints] == [
        ('robot::shoulder', 'robot::base', 'robot::upper')]


def test_merged_link_clashing_with_parent_link_is_an_error(tmp_path):
    part = tmp_path / 'models' / 'part'
    part.mkdir(parents=True)
    (part / 'model.sdf').write_text('<sdf version="1.9"><model name="part"><link name="base"/>'
                                    '</model></sdf>')
    path = _world_file(tmp_path, '<model name="m"><link name="base"/>'
                                 '<include merge="true"><uri>model://part</uri></include></model>')
    with pytest.raises(WorldLoadError, match='"m::base" is used twice'):
        parse_world(path, search_path=[tmp_path / 'models'])


# ---- world-level joints (SDF 1.8+) ---------------------------------------------------------

_BOX = ('<inertial><mass>1</mass><inertia><ixx>0.1</ixx><iyy>0.1</iyy><izz>0.1</izz></inertia>'
        '</inertial><collision name="c"><geometry><box><size>0.4 0.3 0.3</size></box></geometry>'
        '</collision>')


def _two_models(extra: str) -> str:
    return f'''
        <model name="tote"><pose>0 2 0 0 0 0</pose><link name="bin"><pose>0 0 0.15 0 0 0</pose>
          {_BOX}</link></model>
        <model name="lid"><pose>0 2 0.4 0 0 0</pose><link name="link">{_BOX}</link></model>
        <model name="door" canonical_link="leaf"><pose>3 0 0 0 0 1.5707963267948966</pose>
          <link name="frame">{_BOX}</link><link name="leaf"><pose>0 1 1 0 0 0</pose>{_BOX}</link>
        </model>
        {extra}'''


def test_world_level_joints_are_read_like_model_joints(tmp_path, caplog):
    path = _world_file(tmp_path, _two_models('''
        <joint name="lid_on" type="fixed"><parent>tote::bin</parent><child>lid::link</child>
        </joint>
        <joint name="door_hinge" type="revolute">
          <pose relative_to="door">0 0.5 1 0 0 0</pose>
          <parent>world</parent><child>door</child>
          <axis><xyz>1 0 0</xyz><limit><lower>0</lower><upper>1.5</upper></limit></axis>
        </joint>
        <joint name="odd" type="universal"><parent>world</parent><child>door::frame</child>
        </joint>'''), version='1.9')
    with caplog.at_level(logging.WARNING, logger='twin_bridge.description.sdf_world'):
        world = parse_world(path)
    joints = {j.name: j for j in world.joints}
    assert set(joints) == {'lid_on', 'door_hinge'}
    lid = joints['lid_on']
    assert (lid.type, lid.parent, lid.child) == ('fixed', 'tote::bin', 'lid::link')
    np.testing.assert_allclose(lid.pose.position, [0, 2, 0.4])  # defaults to the child frame
    hinge = joints['door_hinge']
    # <child> naming a model means its canonical_link; the pose is relative_to the model frame,
    # and the axis is in the (yawed) joint frame.
    assert (hinge.parent, hinge.child) == ('world', 'door::leaf')
    np.testing.assert_allclose(hinge.pose.position, [2.5, 0, 1], atol=1e-12)
    np.testing.assert_allclose(hinge.axis, [0, 1, 0], atol=1e-12)
    assert (hinge.lower, hinge.upper) == (0, 1.5)
    # An unsupported world joint is listed, in the one warning, not dropped silently.
    assert len(world.ignored) == 1
    assert '<world name="bad">/<joint name="odd">' in world.ignored[0]
    assert 'universal' in world.ignored[0]
    assert len([r for r in caplog.records if r.name == 'twin_bridge.description.sdf_world']) == 1


def test_world_joint_child_model_without_canonical_link_uses_its_first_link(tmp_path):
    world = parse_world(_world_file(tmp_path, f'''
        <model name="cart"><model name="chassis"><link name="body">{_BOX}</link>
          <link name="wheel">{_BOX}</link></model></model>
        <joint name="pin" type="fixed"><parent>world</parent><child>cart</child></joint>'''))
    assert [(j.parent, j.child) for j in world.joints] == [('world', 'cart::chassis::body')]


@pytest.mark.parametrize('parent', ['tote::nope', 'nope::bin', 'nope'])
def test_world_joint_with_a_bad_parent_is_a_named_error(tmp_path, parent):
    path = _world_file(tmp_path, _two_models(f'''
        <joint name="j" type="fixed"><parent>{parent}</parent><child>lid::link</child></joint>'''))
    with pytest.raises(WorldLoadError) as info:
        parse_world(path)
    message = str(info.value)
    assert str(path) in message and '<world name="bad">/<joint name="j">' in message
    assert f'<parent> link "{parent}" does not exist' in message


def test_world_joint_to_a_link_already_carried_is_listed(tmp_path):
    world = parse_world(_world_file(tmp_path, _two_models('''
        <joint name="a" type="fixed"><parent>tote::bin</parent><child>lid::link</child></joint>
        <joint name="b" type="fixed"><parent>world</parent><child>lid::link</child></joint>''')))
    assert [j.name for j in world.joints] == ['a']
    assert len(world.ignored) == 1 and 'second joint to link "lid::link"' in world.ignored[0]


# ---- Fuel models from the local cache -------------------------------------------------------

def test_fuel_include_loads_from_the_local_fuel_cache(tmp_path, monkeypatch):
    cache = tmp_path / 'fuel'
    monkeypatch.setenv('GZ_FUEL_CACHE_PATH', str(cache))
    model_dir = cache / 'fuel.gazebosim.org' / 'openrobotics' / 'models' / 'construction cone'
    for version, radius in ((1, 0.1), (3, 0.2)):
        folder = model_dir / str(version)
        folder.mkdir(parents=True)
        (folder / 'model.config').write_text(
            '<model><name>Construction Cone</name><sdf version="1.6">model.sdf</sdf></model>')
        (folder / 'model.sdf').write_text(f'''<sdf version="1.6"><model name="construction_cone">
            <static>true</static><link name="link"><collision name="c"><geometry>
            <cylinder><radius>{radius}</radius><length>0.5</length></cylinder>
            </geometry></collision></link></model></sdf>''')
    path = _world_file(tmp_path, '''
        <include><uri>https://fuel.gazebosim.org/1.0/OpenRobotics/models/Construction Cone</uri>
          <pose>1 0 0 0 0 0</pose></include>
        <include><uri>https://fuel.gazebosim.org/1.0/OpenRobotics/models/Construction Cone/1</uri>
          <name>old_cone</name><pose>2 0 0 0 0 0</pose></include>''')
    world = parse_world(path)
    assert world.models == ('construction_cone', 'old_cone')
    newest = world.link('construction_cone::link')
    assert newest.collisions[0].geometry.size == (0.2, 0.5)  # version 3, the newest cached
    np.testing.assert_allclose(newest.pose.position, [1, 0, 0])
    assert world.link('old_cone::link').collisions[0].geometry.size == (0.1, 0.5)
    # Not cached: the error names the URI, the include and where the cache was looked for.
    missing = _world_file(tmp_path, '<include><uri>https://fuel.gazebosim.org/1.0/OpenRobotics/'
                                    'models/Pallet</uri></include>', name='missing')
    with pytest.raises(ResourceNotFoundError) as info:
        parse_world(missing)
    message = str(info.value)
    assert 'models/Pallet' in message and '<include>' in message
    assert str(cache / 'fuel.gazebosim.org' / 'openrobotics' / 'models' / 'pallet') in message
