"""Learning on the twin: sensor noise models, synthetic data, Gymnasium environments, policies."""

from twin_bridge.learning.registration import NAV_ENV_ID, register_envs

__all__ = ['NAV_ENV_ID', 'register_envs']

register_envs()
