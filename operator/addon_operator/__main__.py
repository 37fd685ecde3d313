"""`python -m addon_operator ...`: the same as the `addon-operator` console script."""

import sys

from addon_operator.cli import main

sys.exit(main())
