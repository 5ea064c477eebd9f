"""Ray actors: the stateful shell around ``alerting/``. They hold state, persist it to
Redis and pass typed messages; the rules they apply are functions and plain classes
from ``alerting/`` (and ``models/learning.py`` for what the risk model learns from).

Each actor has a typed client (``tenant_client``, ``correlator_client``,
``escalator_client``) built on ``actor_call.ActorCall``; nothing else calls an actor's
method by name. ``ARCHITECTURE.md`` has the processes and the records between them.
"""
