"""``emofeat lineage``: where each stored array of a clip came from."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from emofeat.audit.lineage import lineage
from emofeat.cli.app import app
from emofeat.config import FaceConfig
from emofeat.errors import NotFoundError
from emofeat.faces.loader import load_detector
from emofeat.media import ffmpeg_versions
from emofeat.options import RunOptions
from emofeat.pipeline import IngestSummary, ingest
from emofeat.store import open_store
from tests.audit.releases import ADDED, CHANGED, Releases
from tests.mediagen import corrupt, face_frames, speech_like_with_segments, write_video

runner = CliRunner()
AV = "Actor_01/01-01-03-01-01-01-01.mp4"
BROKEN = "Actor_02/01-01-04-01-01-01-02.mp4"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def ravdess(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, IngestSummary]:
    """A RAVDESS-layout store: one audio-video clip and one that is text, not a video, each
    committed by its own checkpoint."""
    base = tmp_path_factory.mktemp("lineage")
    root, store = base / "RAVDESS", base / "store"
    for rel in (AV, BROKEN):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
    write_video(root / AV, face_frames(10), fps=25, audio=speech_like_with_segments(0.5, 16000, seed=1)[0])
    corrupt(root / BROKEN, "text")
    summary = ingest("ravdess", root, store, options=RunOptions(batch_size=1, checkpoint_every=1, workers=1))
    assert len(summary.commits) == 3  # the start and one checkpoint per clip
    assert summary.clips == {"ok": 1, "failed": 1, "skipped": 0}, summary.failures
    return root, store, summary


@pytest.mark.parametrize(("release", "threshold"), [("v1", 0.7), ("v2", 0.6)])
def test_each_release_names_its_version_sources_config_and_run(
    releases: Releases, release: str, threshold: float
) -> None:
    summary = getattr(releases, release)
    found = lineage(releases.store, CHANGED, tag=release)
    store = open_store(releases.store, tag=release)
    assert found.snapshot == store.snapshot
    assert found.feature_version == summary.feature_version
    assert found.status == "ok"
    assert found.failure is None
    (source,) = found.sources
    assert source.path == "basic/Image/original/train_00002.jpg"
    assert source.absolute == str(releases.root / source.path)
    assert source.sha256 == sha256(releases.root / source.path)
    assert source.streams == {"video": 0.0, "audio": None}  # a still image: no audio stream
    assert found.config["faces"]["threshold"] == threshold
    detector = load_detector(FaceConfig(threshold=threshold))
    assert found.weights == {detector.name: detector.weights_sha256}
    assert found.implementation["faces"]
    assert found.run == summary.run == store.ledger("rafdb", summary.feature_version).at[CHANGED, "run"]
    assert found.commit is not None
    assert found.commit.snapshot == summary.commits[-1]  # the checkpoint, not the run's start
    assert found.environment_from == "commit"
    libraries = found.environment["libraries"]
    for name in ("emofeat", "av", "onnxruntime", "opensmile", "numpy"):
        assert libraries[name], name
    assert found.environment["ffmpeg"] == ffmpeg_versions()
    assert {"version", "libavcodec", "libavformat"} <= set(found.environment["ffmpeg"])
    assert found.catalog["label"] == ("happiness" if release == "v1" else "sadness")


def test_stored_shapes_match_the_arrays_read_back(releases: Releases) -> None:
    found = lineage(releases.store, CHANGED)
    read = open_store(releases.store).read(CHANGED)
    assert {a.key: a.shape for a in found.arrays} == {k: v.shape for k, v in read.items()}
    assert {a.key: a.dtype for a in found.arrays} == {k: str(v.dtype) for k, v in read.items()}
    face = next(a for a in found.arrays if a.key == "face")
    assert face.shape == (1, 112, 112, 3)
    assert face.dtype == "uint8"
    assert not face.per_clip
    assert next(a for a in found.arrays if a.key == "egemaps").per_clip


def test_an_older_version_at_the_tip_is_traced_to_its_own_run(releases: Releases) -> None:
    found = lineage(releases.store, CHANGED, feature_version=releases.v1.feature_version)
    assert found.snapshot == open_store(releases.store).snapshot
    assert found.run == releases.v1.run
    assert found.commit is not None
    assert found.commit.snapshot == releases.v1.commits[-1]
    assert found.config["faces"]["threshold"] == 0.7
    assert found.catalog["label"] == "sadness"  # the catalog is the snapshot's


def test_audio_offsets_and_a_failure(ravdess: tuple[Path, Path, IngestSummary]) -> None:
    root, store, summary = ravdess
    good = lineage(store, f"ravdess/{AV}")
    (source,) = good.sources
    assert source.sha256 == sha256(root / AV)
    assert set(source.streams) == {"video", "audio"}
    assert min(v for v in source.streams.values() if v is not None) == 0.0
    ledger = open_store(store).ledger("ravdess", summary.feature_version)
    assert source.streams["audio"] == ledger.at[f"ravdess/{AV}", "audio_start"]
    assert any(a.key == "mfcc" and a.shape[0] > 0 for a in good.arrays)
    bad = lineage(store, f"ravdess/{BROKEN}")
    assert bad.status == "failed"
    assert bad.arrays == ()
    assert bad.failure is not None
    assert bad.failure["stage"] == "probe"
    assert bad.failure["error_kind"] == "unreadable"
    assert bad.run == summary.run
    assert bad.commit is not None
    assert bad.sources[0].sha256 == sha256(root / BROKEN)


def test_each_clip_is_traced_to_the_checkpoint_that_wrote_it(
    ravdess: tuple[Path, Path, IngestSummary],
) -> None:
    _, store, summary = ravdess
    found = {clip: lineage(store, f"ravdess/{clip}").commit for clip in (AV, BROKEN)}
    assert all(c is not None for c in found.values())
    wrote = {clip: c.snapshot for clip, c in found.items() if c is not None}
    assert sorted(wrote.values()) == sorted(summary.commits[1:])
    for clip, snapshot in wrote.items():
        before = summary.commits[summary.commits.index(snapshot) - 1]
        assert (
            f"ravdess/{clip}" in open_store(store, snapshot).ledger("ravdess", summary.feature_version).index
        )
        assert (
            f"ravdess/{clip}"
            not in open_store(store, before).ledger("ravdess", summary.feature_version).index
        )


def test_unknown_clips_and_releases_are_not_found(releases: Releases) -> None:
    with pytest.raises(NotFoundError, match="not in corpus 'rafdb'"):
        lineage(releases.store, ADDED, tag="v1")  # added by v2
    with pytest.raises(NotFoundError, match="not '<corpus>/<source>'"):
        lineage(releases.store, "train_00002.jpg")
    with pytest.raises(NotFoundError, match="no feature version"):
        lineage(releases.store, CHANGED, feature_version="fv-000000000000")
    with pytest.raises(NotFoundError, match="v9"):
        lineage(releases.store, CHANGED, tag="v9")


def test_cli_lineage_text_and_json(releases: Releases) -> None:
    result = runner.invoke(app, ["lineage", CHANGED, "--store", str(releases.store), "--tag", "v1"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"feature version {releases.v1.feature_version}" in out
    assert f"sha256 {sha256(releases.root / 'basic/Image/original/train_00002.jpg')}" in out
    assert "faces.threshold" in out
    assert "0.7" in out
    assert f"ffmpeg       {ffmpeg_versions()['version']} (libavcodec" in out
    assert f"written by run {releases.v1.run} in commit {releases.v1.commits[-1]}" in out
    assert "face                 (1, 112, 112, 3) uint8" in out
    result = runner.invoke(app, ["lineage", CHANGED, "--store", str(releases.store), "--json"])
    assert result.exit_code == 0, result.output
    (line,) = result.stdout.splitlines()
    data = json.loads(line)
    assert data["feature_version"] == releases.v2.feature_version
    assert data["config"]["faces"]["threshold"] == 0.6
    assert data["environment"]["ffmpeg"]["libavformat"] == ffmpeg_versions()["libavformat"]
    assert {"key": "face", "shape": [1, 112, 112, 3], "dtype": "uint8", "per_clip": False} in data["arrays"]


def test_cli_lineage_of_a_failed_clip(ravdess: tuple[Path, Path, IngestSummary]) -> None:
    _, store, _ = ravdess
    result = runner.invoke(app, ["lineage", f"ravdess/{BROKEN}", "--store", str(store)])
    assert result.exit_code == 0, result.output
    assert "failed at stage probe (unreadable)" in result.stdout
    assert "arrays:" not in result.stdout


@pytest.mark.parametrize(
    ("args", "kind"),
    [
        (["lineage", ADDED, "--tag", "v1"], "not_found"),
        (["lineage", CHANGED, "--tag", "v9"], "not_found"),
        (["lineage", CHANGED, "--tag", "v1", "--snapshot", "main"], "config_invalid"),
    ],
)
def test_cli_lineage_errors_exit_1(releases: Releases, args: list[str], kind: str) -> None:
    result = runner.invoke(app, [*args, "--store", str(releases.store)])
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(f"emofeat: error ({kind}): ")
