"""Per-clip and per-batch work and the ingestion driver (no Prefect imports here)."""

from emofeat.pipeline.batch import BatchJob, BatchResult, run_batch
from emofeat.pipeline.clip import PER_CLIP_KEYS, ClipFeatures, process_clip
from emofeat.pipeline.ingest import IngestSummary, MapBatches, RunOptions, ingest, map_threads

__all__ = [
    "PER_CLIP_KEYS",
    "BatchJob",
    "BatchResult",
    "ClipFeatures",
    "IngestSummary",
    "MapBatches",
    "RunOptions",
    "ingest",
    "map_threads",
    "process_clip",
    "run_batch",
]
