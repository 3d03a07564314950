"""Learning on the twin: sensor noise models, synthetic data, Gymnasium environments, policies."""
