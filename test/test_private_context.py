"""A private rclpy context: spinning helpers, clean exit, clean-up when the node fails."""

import time

import pytest
from rclpy.context import Context

from twin_bridge.ros.private_context import PrivateContext


def test_spin_until_runs_callbacks_and_exit_shuts_the_context_down():
    with PrivateContext('private_context_test') as ros:
        assert ros.node.get_name() == 'private_context_test'
        ticks = []
        ros.node.create_timer(0.01, lambda: ticks.append(time.monotonic()))
        assert ros.spin_until(lambda: len(ticks) >= 3, timeout=5.0)
        before = len(ticks)
        ros.spin_for(0.1)
        assert len(ticks) > before
        context = ros.context
        assert context.ok()
    assert not context.ok()


def test_spin_until_gives_up_on_timeout_or_abort():
    with PrivateContext('private_context_test') as ros:
        start = time.monotonic()
        assert not ros.spin_until(lambda: False, timeout=0.2)
        assert 0.2 <= time.monotonic() - start < 2.0
        start = time.monotonic()
        assert not ros.spin_until(lambda: False, timeout=30.0, abort=lambda: True)
        assert time.monotonic() - start < 1.0


def test_a_failing_node_factory_leaves_no_context_running():
    contexts = []

    class Broken(PrivateContext):
        def create_node(self, context: Context):
            contexts.append(context)
            raise RuntimeError('no node')

    with pytest.raises(RuntimeError, match='no node'), Broken():
        pass
    assert len(contexts) == 1 and not contexts[0].ok()
