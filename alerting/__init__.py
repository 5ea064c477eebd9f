"""The pure alert domain: what an alert is and every rule that decides what happens to it.

Nothing here reads a clock, touches Ray, Redis or the network: time is passed in as
``now`` and every decision is a function that a table of cases can test.

Modules follow the alert's path: ``severity`` and ``fingerprint`` name an alert,
``alert`` holds it, ``lifecycle`` moves it between states, ``matchers`` and ``query``
select it.
"""
