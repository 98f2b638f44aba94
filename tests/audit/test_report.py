"""The quality-control report: its figures, tables and page, rendered in a real headless browser.

Built from the session's RAVDESS store (read-only: an AV clip with a face and speech, a
video-only clip without a face, a real talking head, audio-only clips) and from a small
folder corpus with failed clips and a clip id full of HTML.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from typer.testing import CliRunner

from emofeat.audit import figures
from emofeat.audit.report import ReportError, build_report
from emofeat.audit.report_clips import ENVELOPE_POINTS, face_crop, read_series, waveform
from emofeat.audit.report_tables import failure_table, fold_table, status_counts
from emofeat.cli.app import app
from emofeat.errors import ConfigError, NotFoundError
from emofeat.pipeline import RunOptions, ingest
from emofeat.store import open_store
from tests.audit.browser import dump_dom, images, require_chromium, screenshot
from tests.audit.releases import Releases
from tests.corpusgen import AV, CARPHONE, VIDEO_ONLY_NO_FACE, Corpus, Ingested
from tests.mediagen import corrupt, speech_like, write_audio

ODD = 'good/<b>&"x"$y$.wav'  # HTML and mathtext in a clip id


@dataclass(frozen=True)
class Built:
    store: Path
    out: Path
    summary: dict[str, Any]


@pytest.fixture(scope="module")
def report(ravdess_ingested: Ingested, tmp_path_factory: pytest.TempPathFactory) -> Built:
    out = tmp_path_factory.mktemp("report") / "qc"
    return Built(ravdess_ingested.store, out, build_report(ravdess_ingested.store, out, seed=0))


@pytest.fixture(scope="module")
def failing(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """A folder corpus: two unreadable files, an empty one, and one good clip."""
    base = tmp_path_factory.mktemp("failing")
    root = base / "corpus"
    (root / "bad").mkdir(parents=True)
    (root / "good").mkdir()
    corrupt(root / "bad" / "text.mp4", "text")
    corrupt(root / "bad" / "also text.mp4", "text")
    corrupt(root / "bad" / "zero.wav", "empty")
    write_audio(root / ODD, speech_like(1.0, 16000, seed=1), 16000)
    summary = ingest("folder", root, base / "store", options=RunOptions(workers=1))
    assert summary.clips == {"ok": 1, "failed": 3, "skipped": 0}, summary.failures
    return Built(base / "store", base / "qc", build_report(base / "store", base / "qc"))


def _ravdess_with_video(ravdess: Corpus) -> set[str]:
    ids = {f"ravdess/{AV}", f"ravdess/{VIDEO_ONLY_NO_FACE}"}
    return ids | ({f"ravdess/{CARPHONE}"} if (ravdess.root / CARPHONE).exists() else set())


# ------------------------------------------------------------------------------ the browser


def test_the_page_shows_faces_and_timelines_in_a_real_browser(report: Built, tmp_path: Path) -> None:
    browser = require_chromium()
    page = report.out / "index.html"
    dom = dump_dom(browser, page, 1280, 1200)
    assert 'data-checked="yes"' in dom  # the page's script ran after load
    shown = images(dom)
    assert shown, dom[:2000]
    failed = [i["src"] for i in shown if i.get("data-loaded") != "yes"]
    assert failed == [], f"images that did not load: {failed}"
    kinds = [i["data-kind"] for i in shown]
    assert kinds.count("faces") == 1
    assert kinds.count("timeline") == 3
    rects = {i["src"]: [int(v) for v in i["data-rect"].split(",")] for i in shown}
    bottom = max(top + height for _, top, _, height in rects.values())
    shot = screenshot(browser, page, tmp_path / "page.png", 1280, bottom + 40)
    pixels = np.asarray(Image.open(shot).convert("RGB"), dtype=np.float64)
    for item in shown:
        left, top, width, height = rects[item["src"]]
        assert min(width, height) > 100, item
        crop = pixels[top : top + height, left : left + width]
        assert crop.shape[:2] == (height, width), f"{item['src']} lies outside the screenshot"
        assert crop.std() > 10, f"{item['src']} shows blank on the page (std {crop.std():.1f})"
        with Image.open(report.out / item["src"]) as png:  # what the page shows is the figure
            drawn = np.asarray(png.convert("RGB"), dtype=np.float64)
        assert np.abs(crop - drawn).mean() < 4, f"{item['src']} is not shown as drawn"


def test_the_browser_check_sees_an_image_that_failed_to_load(report: Built, tmp_path: Path) -> None:
    browser = require_chromium()
    copy = tmp_path / "qc"
    shutil.copytree(report.out, copy)
    (copy / "ravdess-timeline-2.png").unlink()
    shown = images(dump_dom(browser, copy / "index.html", 1280, 1200))
    loaded = {i["src"]: i.get("data-loaded") for i in shown}
    assert loaded["ravdess-timeline-2.png"] == "no"
    assert loaded["ravdess-faces.png"] == "yes"


# ------------------------------------------------------------------------------ figures


def test_every_figure_is_a_png_with_content_and_its_size_in_the_page(report: Built) -> None:
    entry = report.summary["corpora"]["ravdess"]
    html = (report.out / "index.html").read_text(encoding="utf-8")
    assert len(entry["images"]) == 1 + 3 + 4  # contact sheet, timelines, 4 charts
    for name in entry["images"]:
        with Image.open(report.out / name) as image:
            assert image.format == "PNG"
            assert f'src="{name}"' in html
            assert f'width="{image.width}" height="{image.height}"' in html
            assert np.asarray(image.convert("L"), dtype=np.float64).std() > 5, name
    assert "http://" not in html
    assert "https://" not in html
    assert report.summary["snapshot"] in html
    assert entry["feature_version"] in html


def test_a_contact_sheet_draws_crops_and_notes(tmp_path: Path) -> None:
    red = np.zeros((112, 112, 3), np.uint8)
    red[..., 0] = 200
    width, height = figures.contact_sheet([("a.mp4", red), ("b.mp4", "no face")], tmp_path / "s.png")
    with Image.open(tmp_path / "s.png") as image:
        pixels = np.asarray(image.convert("RGB")).astype(int)
    assert pixels.shape == (height, width, 3)
    is_red = (np.abs(pixels - [200, 0, 0]).sum(axis=2) < 10).sum()
    is_grey = (np.abs(pixels - [235, 235, 235]).sum(axis=2) < 10).sum()  # the "no face" tile
    assert is_red > 100 * 100
    assert is_grey > 100 * 100
    with pytest.raises(ValueError, match="at least one tile"):
        figures.contact_sheet([], tmp_path / "empty.png")


def test_the_contact_sheet_samples_clips_with_video(report: Built, ravdess: Corpus) -> None:
    sampled = report.summary["corpora"]["ravdess"]["sampled"]
    assert set(sampled) == _ravdess_with_video(ravdess)
    assert sampled == sorted(sampled)


def test_a_small_sample_is_seeded(ravdess_ingested: Ingested, tmp_path: Path) -> None:
    runs = [
        build_report(ravdess_ingested.store, tmp_path / str(i), sample=1, timelines=1, seed=7)
        for i in range(2)
    ]
    first, second = (r["corpora"]["ravdess"] for r in runs)
    assert len(first["sampled"]) == 1
    assert first["sampled"] == second["sampled"]
    assert first["images"][:2] == ["ravdess-faces.png", "ravdess-timeline-1.png"]


def test_the_face_crop_is_the_stored_middle_face(ravdess_ingested: Ingested) -> None:
    store = open_store(ravdess_ingested.store)
    fv = store.latest_version("ravdess")
    clip = f"ravdess/{AV}"
    full = store.read(clip)
    present = read_series(store, clip, fv, ["face_present"])["face_present"]
    np.testing.assert_array_equal(present, full["face_present"])
    frames = np.flatnonzero(full["face_present"])
    crop = face_crop(store, clip, fv, present)
    assert crop is not None
    assert crop.shape == (112, 112, 3)
    np.testing.assert_array_equal(crop, full["face"][frames[frames.size // 2]])
    no_face = f"ravdess/{VIDEO_ONLY_NO_FACE}"
    assert (
        face_crop(store, no_face, fv, read_series(store, no_face, fv, ["face_present"])["face_present"])
        is None
    )


def test_series_read_alone_match_the_full_read(ravdess_ingested: Ingested) -> None:
    store = open_store(ravdess_ingested.store)
    fv = store.latest_version("ravdess")
    keys = ["energy", "energy_times", "face_present", "face_times"]
    for clip in store.catalog("ravdess")["clip_id"]:
        full = store.read(clip)
        for key, value in read_series(store, clip, fv, keys).items():
            np.testing.assert_array_equal(value, full[key])
    with pytest.raises(NotFoundError):
        read_series(store, "ravdess/nope.wav", fv, keys)


def test_the_waveform_envelope_follows_the_audio(ravdess: Corpus) -> None:
    envelope = waveform(ravdess.root / AV, 2.0, points=500)
    assert envelope is not None
    assert 250 <= envelope.times.size <= 500
    assert envelope.times[0] == pytest.approx(0.0, abs=0.05)
    assert envelope.times[-1] == pytest.approx(2.0, abs=0.1)
    assert np.all(envelope.low <= envelope.high)
    assert envelope.high.max() > 0.1
    assert envelope.low.min() < -0.1
    start = ravdess.voiced[0][0]
    silent = envelope.times < start - 0.02  # before the first voiced interval
    assert np.abs(envelope.high[silent]).max() < 0.05
    assert waveform(ravdess.root / VIDEO_ONLY_NO_FACE, 1.2) is None  # no audio stream
    long = waveform(ravdess.root / AV, 100_000.0)  # a long clip is decoded at a low rate
    assert long is not None
    assert long.times.size <= ENVELOPE_POINTS


def test_a_release_tag_is_named_and_read(releases: Releases, tmp_path: Path) -> None:
    v1 = build_report(releases.store, tmp_path / "v1", tag="v1", sample=2, timelines=1)
    v2 = build_report(releases.store, tmp_path / "v2", tag="v2", sample=2, timelines=1)
    assert v1["snapshot"] == open_store(releases.store, tag="v1").snapshot
    html = (tmp_path / "v1" / "index.html").read_text(encoding="utf-8")
    assert f"snapshot <code>{v1['snapshot']}</code> (tag <code>v1</code>)" in html
    first, second = v1["corpora"]["rafdb"], v2["corpora"]["rafdb"]
    assert first["feature_version"] != second["feature_version"]  # v2 changed faces.threshold
    assert first["clips"]["ok"] == 4
    assert second["clips"]["ok"] == 5
    assert first["feature_version"] in html
    assert second["feature_version"] not in html
    assert first["timelines"] == 0  # still images have no time axis
    assert "rafdb-faces.png" in first["images"]


# ------------------------------------------------------------------------------ tables


def test_the_ravdess_catalog_has_no_failures(report: Built, ravdess_ingested: Ingested) -> None:
    catalog = open_store(ravdess_ingested.store).catalog("ravdess")
    no_face = catalog.set_index("clip_id").loc[f"ravdess/{VIDEO_ONLY_NO_FACE}"]
    assert no_face["status"] == "ok"
    assert no_face["face_ratio"] == 0.0
    assert failure_table(catalog) == []
    assert status_counts(catalog) == {"ok": 6, "failed": 0, "pending": 0, "removed": 0}
    assert "No clip failed in this feature version." in (report.out / "index.html").read_text()


def test_failures_are_grouped_by_stage_and_kind(failing: Built) -> None:
    catalog = open_store(failing.store).catalog("folder")
    table = failure_table(catalog, examples=1)
    assert [(r["stage"], r["kind"], r["count"]) for r in table] == [
        ("probe", "unreadable", 2),
        ("probe", "empty_file", 1),
    ]
    assert [x["clip_id"] for x in table[0]["examples"]] == ["folder/bad/also text.mp4"]
    assert "not a media file" in table[0]["examples"][0]["error"]
    entry = failing.summary["corpora"]["folder"]
    assert entry["clips"] == {"ok": 1, "failed": 3, "pending": 0, "removed": 0}
    assert entry["failure_groups"] == 2
    assert entry["sampled"] == []
    assert entry["timelines"] == 1


def test_the_page_escapes_text_from_the_store(failing: Built) -> None:
    html = (failing.out / "index.html").read_text(encoding="utf-8")
    assert "<b>" not in html
    assert "folder/good/&lt;b&gt;&amp;&quot;x&quot;$y$.wav" in html
    assert "folder/bad/zero.wav</code>: cannot open" in html
    assert "the file is empty (0 bytes)" in html


def test_folds_by_subject_flag_subjects_in_two_folds() -> None:
    rows = {
        "clip_id": ["c/1", "c/2", "c/3", "c/4"],
        "subject": ["s1", "s1", "s2", None],
        "fold": pd.array([0, 1, 1, None], dtype="Int64"),
        "removed": [None] * 4,
    }
    folds, split = fold_table(pd.DataFrame(rows))
    assert folds == [
        {"fold": 0, "clips": 1, "subjects": 1, "names": ["s1"]},
        {"fold": 1, "clips": 2, "subjects": 2, "names": ["s1", "s2"]},
    ]
    assert split == ["s1"]


def test_ravdess_folds_are_subject_independent(ravdess_ingested: Ingested) -> None:
    folds, split = fold_table(open_store(ravdess_ingested.store).catalog("ravdess"))
    assert sum(f["clips"] for f in folds) == 6
    assert split == []


# ------------------------------------------------------------------------------ errors and CLI


def test_report_errors(ravdess_ingested: Ingested, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        build_report(tmp_path / "no store", tmp_path / "out")
    with pytest.raises(NotFoundError, match="nope"):
        build_report(ravdess_ingested.store, tmp_path / "out", corpus="nope")
    (tmp_path / "file").write_text("")
    with pytest.raises(ReportError, match="is a file"):
        build_report(ravdess_ingested.store, tmp_path / "file")
    with pytest.raises(ConfigError):
        build_report(ravdess_ingested.store, tmp_path / "out", sample=-1)


runner = CliRunner()


def test_the_command_writes_the_report_with_progress_on_stderr(
    ravdess_ingested: Ingested, tmp_path: Path
) -> None:
    args = ["report", "--store", str(ravdess_ingested.store), "--out", str(tmp_path / "qc")]
    result = runner.invoke(app, [*args, "--sample", "2", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert Path(summary["index"]).is_file()
    assert len(summary["corpora"]["ravdess"]["sampled"]) == 2
    assert "face crops: 2" in result.stderr
    assert "timelines: 3" in result.stderr


@pytest.mark.parametrize(
    ("extra", "kind"),
    [
        (["--corpus", "nope"], "not_found"),
        (["--snapshot", "main", "--tag", "v1"], "config_invalid"),
        (["--tag", "no-such-tag"], "not_found"),
    ],
)
def test_the_command_error_exits(
    ravdess_ingested: Ingested, tmp_path: Path, extra: list[str], kind: str
) -> None:
    args = ["report", "--store", str(ravdess_ingested.store), "--out", str(tmp_path / "qc"), *extra]
    result = runner.invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 1
    assert f"emofeat: error ({kind})" in result.stderr
