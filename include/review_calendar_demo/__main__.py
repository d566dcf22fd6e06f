"""``python -m review_calendar_demo``: see :mod:`review_calendar_demo.cli`."""

import sys

from review_calendar_demo.cli import main

sys.exit(main())
