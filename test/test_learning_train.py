"""PPO on the TwinNav vector env learns: a tiny seeded run beats a random policy.

Everything is seeded (physics, resets, PPO, torch on one thread) so the outcome does not
depend on the machine's load, only the time it takes (about 15 CPU-seconds of training).
Margin: the trained policy's mean evaluation return exceeds the random policy's by at least
10 (a goal is worth 10 plus 5 per metre of progress) and it reaches at least half the goals.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
import signal
import subprocess
import sys

from twin_bridge.learning.nav_policy import NavPolicy
from twin_bridge.learning.train_cli import main
from twin_bridge.learning.training import TrainSettings, train

RETURN_MARGIN = 10.0
ROOT = Path(__file__).resolve().parent.parent


def test_tiny_training_beats_a_random_policy(tmp_path: Path) -> None:
    settings = TrainSettings(num_envs=16, total_steps=35_000, eval_episodes=40, eval_envs=20,
                             nav={'beams': 16}, seed=0)
    result = train(settings, tmp_path, log=lambda line: None)
    assert not result.interrupted and result.steps >= 35_000
    policy, random = result.policy, result.random
    assert policy.episodes == random.episodes == 40
    assert policy.mean_return >= random.mean_return + RETURN_MARGIN, (policy, random)
    assert policy.success_rate >= 0.5 > random.success_rate, (policy, random)
    for name in ('policy', 'learning_curve', 'report'):
        assert Path(result.files[name]).is_file()
    report = json.loads((tmp_path / 'report.json').read_text(encoding='utf-8'))
    assert report['policy']['success_rate'] == policy.success_rate
    assert NavPolicy(tmp_path).layout.beams == 16  # the saved policy loads for the node


def test_cli_rejects_bad_input_with_exit_1(tmp_path: Path, capsys) -> None:
    assert main(['-o', str(tmp_path), '--nav', '{"beamz": 4}', '--steps', '10']) == 1
    assert 'beamz' in capsys.readouterr().err
    assert main(['-o', str(tmp_path), '--nav', 'not json']) == 1
    assert main(['-o', str(tmp_path), '--world', 'atlantis']) == 1
    assert 'atlantis' in capsys.readouterr().err


def test_ctrl_c_stops_training_and_still_saves(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, '-u', '-m', 'twin_bridge.learning.train_cli', '-o', str(tmp_path),
         '--envs', '4', '--steps', '10000000', '--eval-episodes', '4', '--nav',
         '{"beams": 8}'], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True, env={**os.environ, 'PYTHONPATH': str(ROOT)})
    try:
        lines: list[str] = []
        for _ in range(20):  # up to the first progress line: training is under way
            lines.append(proc.stdout.readline())
            if lines[-1].startswith('steps') or not lines[-1]:
                break
        first = ''.join(lines)
        assert lines[-1].startswith('steps'), first
        os.kill(proc.pid, signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, first + out
    assert 'interrupted' in out
    assert (tmp_path / 'policy.zip').is_file() and (tmp_path / 'report.json').is_file()
    assert json.loads((tmp_path / 'report.json').read_text(encoding='utf-8'))['interrupted']
