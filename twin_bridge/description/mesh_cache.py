"""An on-disk cache of mesh arrays keyed by content (parsed meshes, convex decompositions)."""

from __future__ import annotations

from collections.abc import Mapping
import hashlib
import logging
import os
from pathlib import Path
import tempfile

import numpy as np

__all__ = ['CACHE_DIR_ENV', 'cache_dir', 'content_key', 'load_arrays', 'store_arrays']

LOGGER = logging.getLogger(__name__)

#: Environment variable naming the cache directory (``off``: no disk cache).
CACHE_DIR_ENV = 'TWIN_BRIDGE_CACHE_DIR'
_warned: set[str] = set()


def cache_dir() -> Path | None:
    """``$TWIN_BRIDGE_CACHE_DIR``, else ``$XDG_CACHE_HOME/twin_bridge``, else
    ``~/.cache/twin_bridge``; ``None`` when the variable is ``off``."""
    explicit = os.environ.get(CACHE_DIR_ENV)
    if explicit is not None and explicit.strip():
        return None if explicit.strip().lower() == 'off' else Path(explicit).expanduser()
    base = os.environ.get('XDG_CACHE_HOME') or str(Path.home() / '.cache')
    return Path(base) / 'twin_bridge'


def content_key(*parts: bytes | str) -> str:
    """A SHA-256 hex digest of ``parts`` (strings UTF-8 encoded), each length-prefixed."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, 'little'))
        digest.update(data)
    return digest.hexdigest()


def _path(kind: str, key: str) -> Path | None:
    root = cache_dir()
    return None if root is None else root / kind / f'{key}.npz'


def load_arrays(kind: str, key: str) -> dict[str, np.ndarray] | None:
    """The arrays stored under ``kind``/``key``, or ``None`` (absent, unreadable, disabled)."""
    path = _path(kind, key)
    if path is None or not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            return {name: stored[name] for name in stored.files}
    except Exception as exc:  # a truncated or foreign file: recompute (and overwrite)
        LOGGER.warning('mesh cache: ignoring unreadable %s (%s)', path, exc)
        return None


def store_arrays(kind: str, key: str, arrays: Mapping[str, np.ndarray]) -> None:
    """Store ``arrays`` under ``kind``/``key`` (atomically); a failure is one warning per
    directory, never an error (the cache only saves time)."""
    path = _path(kind, key)
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix='.tmp')
        try:
            with os.fdopen(fd, 'wb') as out:
                np.savez(out, **arrays)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError as exc:
        if str(path.parent) not in _warned:
            _warned.add(str(path.parent))
            LOGGER.warning('mesh cache: cannot write %s (%s); set %s to a writable directory '
                           'or to "off"', path.parent, exc, CACHE_DIR_ENV)
