"""``python -m cli``: the same as the ``vigil`` command."""

import sys

from cli.main import main

sys.exit(main())
