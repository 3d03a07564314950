"""Test-session setup: an isolated ROS graph per run and the repository on sys.path."""

import os
from pathlib import Path
import sys

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
