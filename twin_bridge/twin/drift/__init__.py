"""Drift between the physical robot and its twin, and which of four causes explains it.

For every physical scan the twin casts the same beams at the mirrored pose
(:class:`~twin_bridge.embedded.beam_caster.BeamCaster`), compares them beam by beam
(:mod:`.residuals`), matches the scan against the twin's world (:mod:`.scan_match`) and feeds
sequential tests (:mod:`.sequential`) that tell a wrong pose from a changed world
(:mod:`.world_change`), a miscalibrated lidar (:mod:`.lidar_calibration`) and slipping wheels
(:mod:`.wheel_odometry`). :class:`.monitor.DriftMonitor` ties them together on plain data
and gives, per scan, the per-beam residual, the matched pose with its covariance
(:mod:`.pose_correction`) and the world-change clusters.

May import: :mod:`twin_bridge.twin.pose_history`, :mod:`twin_bridge.embedded`,
:mod:`twin_bridge.description`, :mod:`twin_bridge.core`, numpy. No ``rclpy``.
"""
