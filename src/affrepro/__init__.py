"""affrepro: table-by-table reproductions of affective-computing papers."""

import os

# Bitwise-reproducible MKL results whatever the buffers' memory alignment (set before torch loads MKL).
os.environ.setdefault("MKL_CBWR", "AUTO,STRICT")

__version__ = "0.1.0"
