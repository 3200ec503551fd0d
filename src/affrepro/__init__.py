"""affrepro: table-by-table reproductions of affective-computing papers."""

__version__ = "0.1.0"
