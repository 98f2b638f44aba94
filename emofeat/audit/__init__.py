"""Answers for auditors: what changed between releases, where each array came from, and
whether the stored data still matches its sources and config.

Layer: above :mod:`emofeat.store` and :mod:`emofeat.pipeline` (an audit re-extracts clips
the way ingestion did), below the CLI and orchestration.
"""

#: Clips an audit samples per corpus by default (here, so the CLI reads it without importing
#: the pipeline).
DEFAULT_SAMPLE = 20
