"""The ``vigil`` command, the top floor: it may import every package, none imports it.

vigil up [--detach]      start Redis (embedded unless REDIS_URL), Ray (local unless
                         RAY_ADDRESS) and the Serve app; print where everything is
vigil down               stop what ``up`` started
vigil status             is it up, and ready?
vigil send               send a test alert to the running API
vigil tenant create ID   register a tenant and print its new API key once
vigil tenant integration-key ID
                         make a PagerDuty-style integration key (routing_key) for it
vigil config check|routes show|routes test --config alertmanager.yml [label=value ...]
                         validate routing; print the receivers an alert would go to
vigil keys|secret        encryption keys and channel secrets
vigil simulate|train|models
                         simulated traffic with ground truth; train and register the
                         risk model; list models
vigil export-incidents FILE
                         a tenant's incidents with their outcomes, as training history
vigil bench [NAME]       list the benchmarks, or run one

``cli.parser`` holds the whole parser and imports only ``argparse``; ``cli.main``
imports a command's module once that command is chosen, so commands that need no
cluster start at once.
"""
