import sys

from botbasic.cli import main

sys.exit(main())
