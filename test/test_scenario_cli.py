"""twin_scenarios: exit codes, the table, JUnit XML that parses, a PNG per scenario."""

from pathlib import Path
import shutil
import xml.etree.ElementTree as ET

from twin_bridge.scenarios.cli import main

SHIPPED = Path(__file__).resolve().parent.parent / 'scenarios'
FAILING = """world: empty
start: {x: 0, y: 0}
commands: [{until: 1, v: 0.3}]
run: {duration: 1}
expect: {gate_verdicts: {stop: ">=1"}}
"""


def test_a_passing_run_exits_0_with_junit_and_pngs(tmp_path, capsys):
    shutil.copy(SHIPPED / 'rotation_beside_shelf.yaml', tmp_path / 'rotation.yaml')
    junit, out = tmp_path / 'out.xml', tmp_path / 'png'
    assert main(['run', str(tmp_path / 'rotation.yaml'), '--junit', str(junit),
                 '--output', str(out)]) == 0
    printed = capsys.readouterr()
    assert 'rotation' in printed.out and 'PASS' in printed.out and 'speed-up' in printed.out
    assert '[1/1] rotation: PASS' in printed.err
    suite = ET.parse(junit).getroot()
    assert suite.get('tests') == '1' and suite.get('failures') == '0'
    assert [c.get('name') for c in suite.iter('testcase')] == ['rotation']
    assert (out / 'rotation.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


def test_a_failing_and_a_broken_scenario_exit_1(tmp_path, capsys):
    (tmp_path / 'fails.yaml').write_text(FAILING, encoding='utf-8')
    (tmp_path / 'broken.yaml').write_text('world: empty\nstart: {x: 0}\n', encoding='utf-8')
    junit = tmp_path / 'out.xml'
    assert main(['run', str(tmp_path), '--junit', str(junit), '--quiet']) == 1
    printed = capsys.readouterr().out
    assert 'FAIL' in printed and 'ERROR' in printed and '0/2 passed' in printed
    cases = {c.get('name'): c for c in ET.parse(junit).getroot().iter('testcase')}
    assert cases['fails'].find('failure') is not None
    assert "missing key 'y'" in cases['broken'].find('error').text


def test_no_files_is_a_usage_error(tmp_path):
    assert main(['run', str(tmp_path)]) == 2


def test_ctrl_c_reports_what_finished(tmp_path, monkeypatch, capsys):
    import twin_bridge.scenarios.cli as cli
    (tmp_path / 'a.yaml').write_text(FAILING, encoding='utf-8')
    (tmp_path / 'b.yaml').write_text(FAILING, encoding='utf-8')
    real = cli.run_file
    calls = []

    def interrupted(path, **kwargs):
        calls.append(path)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(path, **kwargs)

    monkeypatch.setattr(cli, 'run_file', interrupted)
    assert main(['run', str(tmp_path), '--junit', str(tmp_path / 'j.xml')]) == 130
    captured = capsys.readouterr()
    assert 'interrupted after 1 of 2' in captured.err and '0/1 passed' in captured.out
    assert ET.parse(tmp_path / 'j.xml').getroot().get('tests') == '1'
