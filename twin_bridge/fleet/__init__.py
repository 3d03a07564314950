"""A twin of a fleet: many robots in one embedded model, sharded across processes."""
