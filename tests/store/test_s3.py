"""Stores on object storage: a real S3-compatible server (moto's server mode) on loopback.

The same corpus ingested into ``s3://`` and into a local directory gives the same features;
the read commands work on the S3 store; two writers are caught; the credentials (taken from
the environment, as for MinIO or a cloud bucket) appear in no commit, log, output or error.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zarr
from typer.testing import CliRunner

import emofeat
from emofeat.cli.app import app
from emofeat.errors import EmofeatError, StoreError
from emofeat.pipeline import RunOptions, ingest, workers
from emofeat.store import open_repo
from emofeat.store.location import parse
from emofeat.store.writer import commit
from tests.pipeline.sameness import assert_same_features
from tests.pipeline.test_dask import make_corpus

moto_server = pytest.importorskip("moto.server")
boto3 = pytest.importorskip("boto3")

SECRET = "emofeat-test-secret-5d1f0c9a7e"  # never to be seen outside the environment
KEY_ID = "AKIAEMOFEATTEST0001"
BUCKET = "emofeat-tests"


@pytest.fixture(scope="module")
def s3() -> Iterator[str]:
    """A moto S3 server on a free loopback port, the AWS_* variables pointing at it, a bucket."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    with pytest.MonkeyPatch.context() as env:
        for name, value in {
            "AWS_ACCESS_KEY_ID": KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET,
            "AWS_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ALLOW_HTTP": "true",
        }.items():
            env.setenv(name, value)
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=BUCKET)
        # Worker processes read the credentials from their environment: the pool's workers
        # that earlier tests started have none, so start new ones (as a run's own would be).
        workers.shutdown()
        try:
            yield f"s3://{BUCKET}"
        finally:
            workers.shutdown()
            server.stop()


class _Kept(logging.Handler):
    """A handler that keeps every record it is given."""

    def __init__(self, level: int) -> None:
        super().__init__(level)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="module")
def ingested(s3: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, Any, Any]:
    """The corpus ingested into a local store and into ``s3://.../corpus-store`` (logs kept)."""
    base = tmp_path_factory.mktemp("s3")
    root = make_corpus(base / "corpus")
    options = RunOptions(batch_size=2, checkpoint_every=2)
    local = ingest("folder", root, base / "local", options=options)
    handler = _Kept(logging.DEBUG)
    records = handler.records
    root_logger = logging.getLogger()
    level = root_logger.level
    root_logger.addHandler(handler)
    root_logger.setLevel(logging.DEBUG)  # every record, the workers' forwarded ones too
    try:
        remote = ingest("folder", root, f"{s3}/corpus-store", options=options)
    finally:
        root_logger.removeHandler(handler)
        root_logger.setLevel(level)
    assert records  # the run did log (progress, batches): the check below has something to read
    assert remote.clips == local.clips == {"ok": 4, "failed": 1, "skipped": 0}
    logs = "\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in records)
    return base / "local", f"{s3}/corpus-store", remote, logs


def test_an_s3_store_holds_what_a_local_store_does(ingested: tuple[Path, str, Any, Any]) -> None:
    local, remote, summary, _logs = ingested
    assert summary.store == remote
    assert_same_features(local, remote, "folder")
    again = ingest("folder", local.parent / "corpus", remote)
    assert again.clips == {"ok": 0, "failed": 0, "skipped": 5}  # resumable there too


def test_read_commands_work_on_an_s3_store(ingested: tuple[Path, str, Any, Any]) -> None:
    _local, remote, _summary, _logs = ingested
    runner = CliRunner()
    for command in (["catalog"], ["history"], ["versions"], ["versions", "--features"], ["stats"]):
        result = runner.invoke(app, [*command, "--store", remote, "--json"], catch_exceptions=False)
        assert result.exit_code == 0, (command, result.output)
        assert SECRET not in result.output
        assert KEY_ID not in result.output
    catalog = runner.invoke(app, ["catalog", "--store", remote, "--json"]).stdout.splitlines()
    assert sorted(json.loads(line)["clip_id"] for line in catalog) == sorted(
        emofeat.open_store(remote).catalog("folder")["clip_id"]
    )
    releases = (
        ["tag", "v1"],
        ["tags"],
        ["lineage", "folder/c0.mp4"],
        ["audit", "--sample", "2"],
        ["diff", "v1", "main"],
    )
    for command in releases:
        result = runner.invoke(app, [*command, "--store", remote, "--json"], catch_exceptions=False)
        assert result.exit_code == 0, (command, result.output)
        assert SECRET not in result.output
    gc = runner.invoke(app, ["gc", "--store", remote, "--dry-run"])
    assert gc.exit_code == 1
    assert "unsupported_store" in gc.output
    assert "without --dry-run" in gc.output  # says what to do instead
    nowhere = runner.invoke(app, ["gc", "--store", f"{remote}-nowhere", "--dry-run"])
    assert "unsupported_store" in nowhere.output  # said before the store is looked for
    stored = emofeat.open_store(remote).history()[0]
    assert stored.metadata["emofeat"]["kind"] == "stats"  # `stats` committed there


def test_two_writers_on_s3_are_caught(s3: str) -> None:
    store = f"{s3}/two-writers"
    repo = open_repo(store, create=True)
    first, second = repo.writable_session("main"), repo.writable_session("main")
    zarr.open_group(first.store, mode="a").require_group("shared").attrs["by"] = "first"
    zarr.open_group(second.store, mode="a").require_group("shared").attrs["by"] = "second"
    outcomes: dict[str, object] = {}

    def run(name: str, session: Any) -> None:
        try:
            outcomes[name] = commit(session, f"by {name}", {}, store=store)
        except StoreError as exc:
            outcomes[name] = exc

    threads = [threading.Thread(target=run, args=(n, s)) for n, s in (("first", first), ("second", second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    failed = [n for n, o in outcomes.items() if isinstance(o, StoreError)]
    assert len(failed) == 1, outcomes  # exactly one lands, the other is told
    error = outcomes[failed[0]]
    assert isinstance(error, StoreError)
    assert error.kind == "commit_conflict"
    winner = next(n for n in outcomes if n not in failed)
    root = zarr.open_group(open_repo(store).readonly_session(branch="main").store, mode="r")
    assert root["shared"].attrs["by"] == winner  # the one that landed is whole


def test_credentials_appear_nowhere(ingested: tuple[Path, str, Any, Any], s3: str) -> None:
    _local, remote, summary, logs = ingested
    history = json.dumps([c.metadata for c in emofeat.open_store(remote).history()])
    shown = json.dumps(summary.to_dict())
    with pytest.raises(EmofeatError) as missing:
        emofeat.open_store("s3://no-such-bucket-emofeat/x")
    with pytest.raises(StoreError) as inline:
        parse(f"s3://{KEY_ID}:{SECRET}@{BUCKET}/x")
    for text in (history, shown, logs, str(missing.value), str(inline.value)):
        assert SECRET not in text
        assert KEY_ID not in text
    assert "no-such-bucket-emofeat" in str(missing.value)


def test_runs_creating_one_s3_store_together_all_open_it(s3: str) -> None:
    store = f"{s3}/created-together"
    outcomes: list[object] = []

    def run() -> None:
        try:
            outcomes.append(open_repo(store, create=True))
        except Exception as exc:  # any failure is the finding
            outcomes.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(not isinstance(o, BaseException) for o in outcomes), outcomes
    messages = [c.message for c in open_repo(store).ancestry(branch="main")]
    assert len(messages) == 2, messages  # icechunk's first commit, then emofeat's root group: once
    assert messages[0].startswith("emofeat store"), messages


def test_failures_on_s3_keep_the_secret(
    s3: str, tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = "s3://no-such-bucket-emofeat/features"
    # a bucket that vanishes under an open session: the storage's own error reaches the user
    # (made and removed with boto3 outside the captured logs: boto3's debug records name the
    # key id in the signed headers; emofeat's and icechunk's are what is checked)
    client = boto3.client("s3")
    gone = "emofeat-vanishing"
    client.create_bucket(Bucket=gone)
    vanishing = open_repo(f"s3://{gone}/store", create=True).writable_session("main")
    zarr.open_group(vanishing.store, mode="a").attrs["x"] = 1
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=gone):
        for item in page.get("Contents", []):
            client.delete_object(Bucket=gone, Key=item["Key"])
    client.delete_bucket(Bucket=gone)
    capsys.readouterr()
    runner = CliRunner()
    shown: list[str] = []
    with caplog.at_level(logging.DEBUG):
        for command in (["catalog"], ["history"], ["stats"]):
            result = runner.invoke(app, [*command, "--store", missing])
            assert result.exit_code != 0, (command, result.output)
            assert "no-such-bucket-emofeat" in result.output  # the message names the store
            shown.append(result.output)
        source = tmp_path / "one"
        source.mkdir()
        ingest_args = ["ingest", "folder", str(source), "--store", missing, "--engine", "local"]
        result = runner.invoke(app, ingest_args)
        assert result.exit_code != 0, result.output
        shown.append(result.output)
        with pytest.raises(StoreError) as failed:
            commit(vanishing, "into nothing", {}, store=f"s3://{gone}/store")
        assert failed.value.kind == "commit_failed"
        shown.append(str(failed.value))
    captured = capsys.readouterr()
    for text in (*shown, caplog.text, captured.out, captured.err):
        assert SECRET not in text
        assert KEY_ID not in text
