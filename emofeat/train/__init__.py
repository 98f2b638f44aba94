"""The training stage (layer above ``data``): the five papers' models, their losses, the
field's metrics, a plain PyTorch loop and the protocols as data."""
