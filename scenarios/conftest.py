"""`pytest scenarios/` collects every scenario file here as a test case."""

from pathlib import Path
import sys

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from twin_bridge.scenarios.pytest_plugin import pytest_collect_file

__all__ = ['pytest_collect_file']
