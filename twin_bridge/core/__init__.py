"""Plain data and math shared by every layer: samples, lidar, transforms, the backend interface.

May import: numpy and :mod:`twin_bridge.errors` only.
"""
