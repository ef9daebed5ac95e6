"""`python -m imgstream.cli` runs the command line."""

import sys

from imgstream.cli import main

sys.exit(main())
