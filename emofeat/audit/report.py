"""The quality-control report: one HTML page with PNG figures per corpus of a pinned snapshot.

Per corpus (its latest feature version in the snapshot): a contact sheet of aligned face
crops of a random sample of clips, the face-present and energy tags over the waveform of a
few clips, label, duration and face-ratio histograms, folds by subject, and the failed clips
grouped by stage and kind. ``emofeat report`` is the command line.

Memory is bounded whatever the corpus's size: the histograms and tables come from the
catalog's columns, and only the sampled clips are read, a few small series and one face crop
each (:mod:`emofeat.audit.report_clips`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from emofeat.audit import figures, report_tables
from emofeat.audit.page import Image, Section, render_page
from emofeat.audit.report_clips import Envelope, corpus_root, face_crop, read_series, waveform
from emofeat.audit.report_tables import SAMPLE, TIMELINES
from emofeat.errors import ConfigError, EmofeatError
from emofeat.pipeline.progress import NO_PROGRESS, Progress
from emofeat.store import FeatureStore, open_store


class ReportError(EmofeatError):
    """The report cannot be written (its directory is not writable, or is a file)."""

    kind = "report_error"
    stage = "report"


def _sample(frame: pd.DataFrame, size: int, rng: np.random.Generator) -> pd.DataFrame:
    if len(frame) <= size:
        return frame
    return frame.iloc[np.sort(rng.choice(len(frame), size=size, replace=False))]


def _has(ledger: pd.DataFrame, column: str, clip_ids: pd.Series) -> np.ndarray:
    if column not in ledger.columns:
        return np.zeros(len(clip_ids), dtype=bool)
    return np.asarray(ledger[column].reindex(clip_ids).notna().to_numpy(), dtype=bool)


def _timeline_clips(
    store: FeatureStore, name: str, ok: pd.DataFrame, fv: str, k: int, rng: np.random.Generator
) -> list[str]:
    """``k`` random ok clips that have a time axis (audio, or more than one frame: not a still
    image), those with both audio and video first."""
    if ok.empty or k <= 0:
        return []
    ledger = store.ledger(name, fv)
    audio = _has(ledger, "audio_start", ok["clip_id"])
    video = _has(ledger, "video_start", ok["clip_id"])
    moving = audio | (ok["frames"].fillna(0).to_numpy(dtype=np.int64) > 1)
    order = [i for i in rng.permutation(len(ok)) if moving[i]]
    ranked = sorted(order, key=lambda i: not (audio[i] and video[i]))  # stable: random within a rank
    return [str(ok["clip_id"].iloc[i]) for i in ranked[:k]]


def _contact_sheet(
    store: FeatureStore, name: str, fv: str, clips: pd.DataFrame, out: Path, progress: Progress
) -> tuple[Image | None, list[str]]:
    if clips.empty:
        return None, []
    progress.phase(f"report {name}: face crops", len(clips))
    tiles: list[tuple[str, np.ndarray | str]] = []
    notes = []
    for clip_id, source in zip(clips["clip_id"], clips["source"], strict=True):
        try:
            present = read_series(store, clip_id, fv, ["face_present"])["face_present"]
            crop = face_crop(store, clip_id, fv, present)
            tiles.append((str(source), "no face" if crop is None else crop))
            progress.advance(ok=1)
        except EmofeatError as exc:
            tiles.append((str(source), "unreadable"))
            notes.append(f"{clip_id}: {exc.message}")
            progress.advance(failed=1)
    file = f"{name}-faces.png"
    width, height = figures.contact_sheet(tiles, out / file)
    return Image(file, "faces", f"face crops of {len(tiles)} clips of {name}", width, height), notes


def _envelope(root: Path | None, row: pd.Series, has_audio: bool) -> tuple[Envelope | None, str | None]:
    """The clip's waveform, or why there is none."""
    if not has_audio:
        return None, None
    if root is None:
        return None, "no waveform: the store does not record the corpus root"
    audio_source = row["audio_source"]
    path = root / str(audio_source if isinstance(audio_source, str) and audio_source else row["source"])
    if not path.exists():
        return None, f"no waveform: the source is not at {path} (moved?)"
    duration = row["duration"]
    try:
        return waveform(path, None if pd.isna(duration) else float(duration)), None
    except EmofeatError as exc:
        return None, f"no waveform: {exc.message}"


def _timelines(
    store: FeatureStore, name: str, fv: str, ok: pd.DataFrame, ids: list[str], out: Path, progress: Progress
) -> tuple[list[Image], list[str]]:
    if not ids:
        return [], []
    progress.phase(f"report {name}: timelines", len(ids))
    root = corpus_root(store, name)
    ledger = store.ledger(name, fv)
    rows = ok.set_index("clip_id", drop=False)
    images, notes = [], []
    keys = ["energy", "energy_times", "face_present", "face_times"]
    for i, clip_id in enumerate(ids):
        try:
            series = read_series(store, clip_id, fv, keys)
        except EmofeatError as exc:
            notes.append(f"{clip_id}: {exc.message}")
            progress.advance(failed=1)
            continue
        has_audio = "audio_start" in ledger.columns and bool(pd.notna(ledger.at[clip_id, "audio_start"]))
        envelope, note = _envelope(root, rows.loc[clip_id], has_audio)
        file = f"{name}-timeline-{i + 1}.png"
        width, height = figures.timeline(
            clip_id,
            envelope,
            (series["energy_times"], series["energy"]),
            (series["face_times"], series["face_present"]),
            out / file,
            note,
        )
        images.append(Image(file, "timeline", f"tags over time of {clip_id}", width, height))
        progress.advance(ok=1)
    return images, notes


def _charts(name: str, catalog: pd.DataFrame, out: Path) -> list[Image]:
    here = report_tables.present(catalog)
    ok = here[here["status"] == "ok"]
    labels = here["label"].dropna().astype(str)
    charts = [
        ("labels", lambda p: figures.bar_counts(labels[labels != ""].value_counts().to_dict(), "labels", p)),
        ("durations", lambda p: figures.histogram(ok["duration"].to_numpy(float), "duration", "seconds", p)),
        (
            "face_ratio",
            lambda p: figures.histogram(
                ok["face_ratio"].to_numpy(float), "face ratio", "share of frames with a face", p, (0.0, 1.0)
            ),
        ),
    ]
    folds, _ = report_tables.fold_table(catalog, shown=0)
    images = []
    for kind, draw in charts:
        file = f"{name}-{kind.replace('_', '-')}.png"
        width, height = draw(out / file)
        images.append(Image(file, kind, f"{kind.replace('_', ' ')} of {name}", width, height))
    file = f"{name}-folds.png"
    width, height = figures.folds_chart(
        {f["fold"]: f["clips"] for f in folds}, {f["fold"]: f["subjects"] for f in folds}, out / file
    )
    images.append(Image(file, "folds", f"folds of {name}", width, height))
    return images


def corpus_section(
    store: FeatureStore,
    name: str,
    out: Path,
    sample: int = SAMPLE,
    timelines: int = TIMELINES,
    seed: int = 0,
    progress: Progress = NO_PROGRESS,
) -> Section:
    """Draw one corpus's figures into ``out`` and collect its tables.

    Parameters
    ----------
    store : FeatureStore
        The pinned snapshot.
    name : str
        A corpus of the snapshot.
    out : pathlib.Path
        An existing directory; the figures are written there as ``<name>-*.png``.
    sample, timelines : int
        Clips on the contact sheet (ok clips with video) and clips with a timeline.
    seed : int, default 0
        Seeds the sample (the same seed and snapshot give the same report).
    progress : Progress, optional
        Told of each phase and each clip read.

    Returns
    -------
    Section
        What :func:`emofeat.audit.page.render_page` shows of the corpus.

    Raises
    ------
    NotFoundError
        When the corpus is not in the snapshot.
    OSError
        When a figure cannot be written.
    """
    catalog = store.catalog(name)
    fv = catalog["feature_version"].iloc[0] if len(catalog) else None
    rng = np.random.default_rng(seed)
    here = report_tables.present(catalog)
    ok = here[here["status"] == "ok"]
    folds, split = report_tables.fold_table(catalog)
    faces: Image | None = None
    timeline_images: list[Image] = []
    notes: list[str] = []
    sampled: list[str] = []
    if isinstance(fv, str):
        video = _sample(ok[ok["frames"].fillna(0) > 0], sample, rng)
        sampled = [str(c) for c in video["clip_id"]]
        faces, sheet_notes = _contact_sheet(store, name, fv, video, out, progress)
        ids = _timeline_clips(store, name, ok, fv, timelines, rng)
        timeline_images, line_notes = _timelines(store, name, fv, ok, ids, out, progress)
        notes = sheet_notes + line_notes
    progress.phase(f"report {name}: charts", None)
    created = next((v["created"] for v in store.feature_versions(name) if v["feature_version"] == fv), None)
    return Section(
        corpus=name,
        feature_version=fv if isinstance(fv, str) else None,
        created=None if created is None else str(created),
        counts=report_tables.status_counts(catalog),
        faces=faces,
        sampled=sampled,
        timelines=timeline_images,
        charts=_charts(name, catalog, out),
        folds=folds,
        split_subjects=split,
        failures=report_tables.failure_table(catalog),
        notes=notes,
    )


def build_report(
    store: str | Path,
    out: str | Path,
    *,
    corpus: str | None = None,
    sample: int = SAMPLE,
    timelines: int = TIMELINES,
    seed: int = 0,
    snapshot: str | None = None,
    tag: str | None = None,
    progress: Progress = NO_PROGRESS,
) -> dict[str, Any]:
    """Write the quality-control report of a snapshot to ``out/index.html`` (figures beside it).

    Parameters
    ----------
    store : str or pathlib.Path
        The feature store.
    out : str or pathlib.Path
        The report's directory (made if missing; its ``index.html`` and the corpora's
        ``<corpus>-*.png`` are replaced).
    corpus : str, optional
        Only this corpus (default: every corpus of the snapshot).
    sample : int, default SAMPLE
        Clips on each corpus's contact sheet.
    timelines : int, default TIMELINES
        Clips with a timeline per corpus.
    seed : int, default 0
        Seeds the samples.
    snapshot, tag : str, optional
        The snapshot (id, tag or branch) or the release tag to read (default: main's tip).
    progress : Progress, optional
        Told of each phase and each clip read (the CLI shows it on stderr).

    Returns
    -------
    dict
        ``index`` (the page's path), ``snapshot``, ``tag`` and per corpus (``corpora``) its
        ``feature_version``, ``clips`` by status, ``sampled`` clip ids, ``timelines``,
        ``failure_groups`` and ``images`` (file names).

    Raises
    ------
    NotFoundError
        When there is no store at ``store``, or the snapshot, tag or corpus is not in it.
    ConfigError
        When ``sample`` or ``timelines`` is negative.
    ReportError
        When ``out`` cannot be written.
    """
    if sample < 0 or timelines < 0:
        raise ConfigError("--sample and --timelines must be 0 or more")
    opened = open_store(store, snapshot, tag)
    names = [corpus] if corpus is not None else opened.corpora()
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ReportError(f"--out {out} is a file, not a directory: give a directory for the report")
    sections = []
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name in names:
            sections.append(corpus_section(opened, name, out, sample, timelines, seed, progress))
        index = out / "index.html"
        index.write_text(render_page(str(store), opened.snapshot, tag, sections), encoding="utf-8")
    except OSError as exc:
        raise ReportError(
            f"cannot write the report to {out}: {exc.strerror or exc}; give another --out"
        ) from exc
    return {
        "index": str(index),
        "snapshot": opened.snapshot,
        "tag": tag,
        "corpora": {
            s.corpus: {
                "feature_version": s.feature_version,
                "clips": s.counts,
                "sampled": s.sampled,
                "timelines": len(s.timelines),
                "failure_groups": len(s.failures),
                "images": [i.file for i in [*([s.faces] if s.faces else []), *s.timelines, *s.charts]],
            }
            for s in sections
        },
    }
