import sys

from hamodel.cli import main

sys.exit(main())
