"""MuJoCo's warnings into Python logging, bounded (MuJoCo would append them to a
``MUJOCO_LOG.TXT`` in the working directory of whoever runs the twin)."""

from __future__ import annotations

import logging
import threading

import mujoco

__all__ = ['MAX_DISTINCT_WARNINGS', 'route_mujoco_warnings']

LOGGER = logging.getLogger('twin_bridge.mujoco')
#: Distinct warning texts logged; later ones are counted, not logged (input-made text
#: must not grow the log or memory without bound).
MAX_DISTINCT_WARNINGS = 64

_lock = threading.Lock()
_seen: dict[str, int] = {}
_installed = False


def _warn(message: str) -> None:
    text = message.strip()[:300]
    with _lock:
        count = _seen.get(text)
        if count is not None:
            _seen[text] = count + 1
            return
        if len(_seen) >= MAX_DISTINCT_WARNINGS:
            return
        _seen[text] = 1
    LOGGER.warning('MuJoCo: %s', text)


def route_mujoco_warnings() -> None:
    """Send MuJoCo's warnings to the ``twin_bridge.mujoco`` logger, each distinct text
    once (idempotent; the embedded layer calls it on import)."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
    mujoco.set_mju_user_warning(_warn)
