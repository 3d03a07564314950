"""Test-session setup: an isolated ROS graph per run and the repository on sys.path."""

import atexit
import os
from pathlib import Path
import shutil
import sys
import tempfile

REPO_ROOT = Path(__file__).resolve().parent.parent

# A private DDS domain per test run, so parallel runs on one machine never cross-talk.
# Child processes (nodes under test) inherit these through os.environ.
os.environ.setdefault('ROS_DOMAIN_ID', str(100 + os.getpid() % 100))
os.environ['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'
os.environ.pop('ROS_LOCALHOST_ONLY', None)
# Nodes spawned by tests import the source tree, not an installed copy.
os.environ['PYTHONPATH'] = os.pathsep.join(
    p for p in (str(REPO_ROOT), os.environ.get('PYTHONPATH', '')) if p)
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))
# Parsed meshes and convex decompositions are cached on disk: a cache of this run's own, so
# tests never read what an earlier run (or the user) left in ~/.cache/twin_bridge.
if 'TWIN_BRIDGE_CACHE_DIR' not in os.environ:
    _CACHE = tempfile.mkdtemp(prefix='twin_bridge_cache_')
    os.environ['TWIN_BRIDGE_CACHE_DIR'] = _CACHE
    atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)
