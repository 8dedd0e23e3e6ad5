"""`python -m reportgen` runs the command line."""

import sys

from reportgen.cli.main import main

sys.exit(main())
