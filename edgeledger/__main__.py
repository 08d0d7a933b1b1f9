"""`python -m edgeledger` is the `edgeledger` command."""

import sys

from edgeledger.cli import main

sys.exit(main())
