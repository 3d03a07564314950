"""The demo application: starts the stand-in robot and the twin as ROS processes, watches them
over DDS, and reports (table, JSON, PNG). Run it with ``python -m twin_bridge.demo``.

May import: every layer, :mod:`twin_bridge.ros` included (it is the top layer).
"""
