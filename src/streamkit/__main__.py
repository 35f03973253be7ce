"""``python -m streamkit``: the command line (see ``streamkit._cli``)."""

import sys

from ._cli import main

sys.exit(main())
