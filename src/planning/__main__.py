"""``python -m planning``: the command line."""

import sys

from planning.apps.cli import main

sys.exit(main())
