"""Reading the store for training (layer above ``store``): samplers first; the datasets and
views come next."""

from emofeat.data.sampler import EpochSampler

__all__ = ["EpochSampler"]
