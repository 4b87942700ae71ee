"""``python -m emgfeedback``: the same as the ``emgfeedback`` command."""

import sys

from emgfeedback.cli import main

sys.exit(main())
