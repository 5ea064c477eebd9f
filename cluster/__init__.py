"""The ground Vigil stands on: settings, Redis (embedded or external), the stores and
their key layout (``keys``), Ray start-up and actor naming, the tenant registry. It
imports only ``alerting``; the ``vigil`` command is ``cli/``, the top floor."""
