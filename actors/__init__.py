"""Ray actors: the stateful shell around ``alerting/``. They hold state, persist it to
Redis and pass messages; every rule they apply is a function from ``alerting/``."""
