"""ROS 2 nodes (thin: parameters, topics, timers); the logic lives in the core."""
