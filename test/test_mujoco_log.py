"""MuJoCo's warnings reach Python logging once per text, and no MUJOCO_LOG.TXT is written."""

import logging
import os

import mujoco
import numpy as np

import twin_bridge.embedded  # noqa: F401 - installs the handler
from twin_bridge.embedded import mujoco_log


def test_warnings_are_logged_once_and_no_log_file_appears(tmp_path, caplog, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(mujoco_log, '_seen', {})
    model = mujoco.MjModel.from_xml_string(
        '<mujoco><worldbody><body><joint type="hinge"/><geom size=".1"/></body>'
        '</worldbody></mujoco>')
    data = mujoco.MjData(model)
    with caplog.at_level(logging.WARNING, logger='twin_bridge.mujoco'):
        for _ in range(3):
            data.qpos[0] = np.nan
            mujoco.mj_step(model, data)
    lines = [r.getMessage() for r in caplog.records if 'QPOS' in r.getMessage()]
    assert len(lines) == 1 and lines[0].startswith('MuJoCo: ')
    assert not os.path.exists(tmp_path / 'MUJOCO_LOG.TXT')


def test_distinct_warnings_are_bounded(monkeypatch, caplog):
    monkeypatch.setattr(mujoco_log, '_seen', {})
    with caplog.at_level(logging.WARNING, logger='twin_bridge.mujoco'):
        for i in range(mujoco_log.MAX_DISTINCT_WARNINGS + 50):
            mujoco_log._warn(f'warning {i} ' + 'x' * 1000)
    assert len(caplog.records) == mujoco_log.MAX_DISTINCT_WARNINGS
    assert max(len(r.getMessage()) for r in caplog.records) < 400
