"""The ground Vigil stands on: settings, Redis (embedded or external), the store and
its key layout, Ray start-up and actor naming, the tenant registry, and the CLI."""
