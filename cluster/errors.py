"""The errors of the ground layer: each a reason Vigil cannot start, or a command
cannot run, that the ``vigil`` command prints as one line.

    ValueError
     ├── SettingsError       - environment variables Vigil cannot use
     ├── ConfigError         - the configuration file is missing, not YAML, or wrong
     └── SecretError         - a secret cannot be stored or read (never carries it)
    RuntimeError
     ├── EmbeddedRedisError  - the embedded Redis server cannot be started or reached
     └── TenantDeleted       - an actor of a deleted tenant may not start

They live in one module, with no dependency, so the CLI can catch them without
importing Redis or Ray.
"""


class SettingsError(ValueError):
    """One or more environment variables have values Vigil cannot use."""


class ConfigError(ValueError):
    """The configuration file is missing, not YAML, or does not fit the schema."""


class SecretError(ValueError):
    """A secret cannot be stored or read (never carries the secret itself)."""


class EmbeddedRedisError(RuntimeError):
    """The embedded Redis server could not be started or reached."""


class TenantDeleted(RuntimeError):
    """The tenant is marked deleted: none of its actors may start (and write for it)."""
