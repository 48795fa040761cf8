"""``python -m locust_events COMMAND``: the same commands as the ``locust-events`` script."""

import sys

from .tools.cli import main

if __name__ == "__main__":
    sys.exit(main())
