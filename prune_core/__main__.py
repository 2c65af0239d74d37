"""``python -m prune_core``: the engine from the command line (see prune_core.cli)."""

import sys

from .cli import main

sys.exit(main())
