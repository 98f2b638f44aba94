"""Reading the store for training (layer above ``store``): map-style datasets over a pinned
snapshot, one view per paper, the decoded cache, collation, samplers and augmentations."""

from emofeat.data.augment import Augment, FaceAugment, SpecAugment, item_rng
from emofeat.data.collate import collate
from emofeat.data.dataset import FeatureDataset, open_dataset, worker_init_fn
from emofeat.data.sampler import EpochSampler
from emofeat.data.stats import FeatureStats, compute_stats, normalize, read_stats, stats_groups, write_stats
from emofeat.data.views import VIEWS, ClipView, ImageView, SegmentView, StepView, View, WindowView, make_view

__all__ = [
    "VIEWS",
    "Augment",
    "ClipView",
    "EpochSampler",
    "FaceAugment",
    "FeatureDataset",
    "FeatureStats",
    "ImageView",
    "SegmentView",
    "SpecAugment",
    "StepView",
    "View",
    "WindowView",
    "collate",
    "compute_stats",
    "item_rng",
    "make_view",
    "normalize",
    "open_dataset",
    "read_stats",
    "stats_groups",
    "worker_init_fn",
    "write_stats",
]
