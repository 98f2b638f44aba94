"""The command line interface (``emofeat``)."""
