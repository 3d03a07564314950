"""twin_demo --robots N: options, the generated fleet, and a short run over real DDS."""

import argparse
import io
import json

import pytest

from twin_bridge.demo.demo import build_parser
from twin_bridge.demo.fleet_demo import (
    check_fleet_options,
    fleet_layout,
    run_fleet,
    write_fleet_file,
)
from twin_bridge.errors import ConfigError
from twin_bridge.fleet.fleet_model import FleetModel
from twin_bridge.fleet.fleet_spec import load_fleet_file


def options(*argv):
    return build_parser().parse_args(list(argv))


@pytest.mark.parametrize('argv, message', [
    (['--robots', '0'], 'within 1..40'),
    (['--robots', '41'], 'within 1..40'),
    (['--robots', '2', '--mqtt'], 'cannot be combined with --mqtt'),
    (['--robots', '3', '--fault', 'lidar_yaw:deg=2'], 'with --fault'),
])
def test_bad_fleet_options_are_refused(argv, message):
    with pytest.raises(ConfigError, match=message):
        check_fleet_options(options(*argv))
    check_fleet_options(options('--robots', '1', '--mqtt'))   # one robot: the usual demo


def test_the_demo_fleet_is_a_valid_fleet_on_a_grid(tmp_path):
    layout = fleet_layout(7)
    assert [ns for ns, _, _ in layout] == [f'robot{k}' for k in range(1, 8)]
    xs, ys = {x for _, x, _ in layout}, {y for _, _, y in layout}
    assert abs(sum(xs)) < 1e-9 and abs(sum(ys)) < 1e-9     # centred on the origin
    path = write_fleet_file(tmp_path / 'fleet.yaml', 'empty', 7)
    model = FleetModel(load_fleet_file(path))               # no overlap, every robot loads
    assert len(model.slots) == 7


def test_two_robots_end_to_end(tmp_path):
    out, err = io.StringIO(), io.StringIO()
    opts = options('--robots', '2', '--duration', '2', '--world', 'empty', '--output',
                   str(tmp_path))
    assert isinstance(opts, argparse.Namespace)
    code = run_fleet(opts, out, err)
    assert code == 0, out.getvalue() + err.getvalue()
    report = json.loads((tmp_path / 'report.json').read_text())
    for ns in ('robot1', 'robot2'):
        for stream in ('joint_states', 'odom', 'scan'):
            assert report['streams'][ns][stream]['count'] > 0
    assert 'robot2 virtual/scan' in out.getvalue()
