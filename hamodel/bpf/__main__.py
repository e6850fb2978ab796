"""`python -m hamodel.bpf run ...`: the runner without the rest of the CLI."""

import sys

from hamodel.bpf.cli import main

sys.exit(main())
