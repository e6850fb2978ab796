import sys

from hamodel.entry import main

sys.exit(main())
