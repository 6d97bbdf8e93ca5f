"""``python -m planning``: the command line."""

import sys

from planning.apps.cli import main

if __name__ == "__main__":
    sys.exit(main())
