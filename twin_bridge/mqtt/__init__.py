"""Robots over MQTT: the versioned JSON schema, the paho client, and the adapter's logic.

A robot without ROS publishes its state as JSON on ``<prefix>/<robot>/state`` and reads the
twin's outputs on ``<prefix>/<robot>/virtual/...``; ``ros/mqtt_bridge_node`` turns that into
ordinary ROS topics. May import: :mod:`twin_bridge.fleet` and the layers below it. No
``rclpy``.
"""
