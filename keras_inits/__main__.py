"""`python -m keras_inits`: the command line (see `keras_inits.cli`)."""

import sys

from keras_inits.cli import main

if __name__ == "__main__":
    sys.exit(main())
