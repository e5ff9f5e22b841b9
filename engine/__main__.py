"""``python -m rammeaftale`` is the ``rammeaftale`` command."""

import sys

from .cli import main

sys.exit(main())
