import sys

from tfpvae.cli import main

sys.exit(main())
