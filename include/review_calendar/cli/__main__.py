"""``python -m review_calendar.cli``: the same as the ``review-calendar`` console script."""

import sys

from review_calendar.cli import main

sys.exit(main())
