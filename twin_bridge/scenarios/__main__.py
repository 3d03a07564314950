"""``python -m twin_bridge.scenarios run FILES...`` (the ``twin_scenarios`` console script)."""

import sys

from twin_bridge.scenarios.cli import main

if __name__ == '__main__':
    sys.exit(main())
