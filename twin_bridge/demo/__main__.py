"""``python -m twin_bridge.demo``: run the embedded twin demo."""

import sys

from twin_bridge.demo.demo import main

sys.exit(main())
