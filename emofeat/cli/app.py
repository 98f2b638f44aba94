"""The ``emofeat`` command line: one Typer app; commands are thin wrappers over the library."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import pandas as pd
import typer

from emofeat.cli.common import (
    CorpusOpt,
    JsonOpt,
    SnapshotOpt,
    StoreOpt,
    TagOpt,
    VerboseOpt,
    emit_json,
    errors_exit,
    reference,
)
from emofeat.config import FeatureConfig
from emofeat.errors import EmofeatError
from emofeat.options import RunOptions
from emofeat.pipeline import stopping

app = typer.Typer(
    name="emofeat",
    help="Audio-visual emotion corpora into a versioned feature store.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

RUN = RunOptions()  # the defaults of every run option, in one place


def stopped(exc: EmofeatError) -> NoReturn:
    """A run stopped by a signal: one line saying how to resume, exit 128 + the signal."""
    typer.echo(
        f"emofeat: {exc.message}; finished batches are committed: run the same command again "
        "to resume (committed clips are skipped)",
        err=True,
    )
    raise typer.Exit(stopping.exit_code())


class _Stderr:
    """``sys.stderr`` as it is at each write: a progress bar redirects it to print above itself."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def set_verbose(verbose: bool) -> None:
    """With ``verbose``: log at INFO, Prefect's flow-run logs included."""
    if verbose:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")  # read when Prefect loads, later
        logging.getLogger().setLevel(logging.INFO)


@app.callback()
def _main(verbose: VerboseOpt = False) -> None:
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=_Stderr()
    )
    set_verbose(verbose)


@app.command()
def ingest(
    corpus: Annotated[str, typer.Argument(help="Corpus adapter name (see `emofeat corpora`).")],
    source_dir: Annotated[Path, typer.Argument(help="Root directory of the corpus on disk.")],
    store: StoreOpt,
    config: Annotated[Path | None, typer.Option("--config", help="Feature config (TOML or JSON).")] = None,
    workers: Annotated[
        int, typer.Option("--workers", min=1, help="Batches processed in parallel.")
    ] = RUN.workers,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Clips per task.")] = RUN.batch_size,
    checkpoint_every: Annotated[
        int, typer.Option("--checkpoint-every", min=1, help="Batches per commit.")
    ] = RUN.checkpoint_every,
    retry_failed: Annotated[bool, typer.Option("--retry-failed", help="Process failed clips again.")] = False,
    folds: Annotated[
        int, typer.Option("--folds", min=2, help="Subject-independent folds in the catalog.")
    ] = RUN.folds,
    engine: Annotated[
        str, typer.Option("--engine", help="prefect (default) or local (no Prefect).")
    ] = "prefect",
    dask: Annotated[
        str | None, typer.Option("--dask", help="Dask scheduler address for the batches.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Plan only: count clips, write nothing.")
    ] = False,
    max_megapixels: Annotated[
        float,
        typer.Option("--max-megapixels", help="Refuse frames larger than this (kind too_large)."),
    ] = RUN.max_megapixels,
    name: Annotated[
        str | None,
        typer.Option("--name", help="The corpus's name in the store (default: the adapter's)."),
    ] = None,
    root_moved: Annotated[
        bool,
        typer.Option("--root-moved", help="The corpus under this name moved to this root: accept it."),
    ] = False,
    in_process: Annotated[
        bool,
        typer.Option(
            "--in-process",
            help="Run batches on threads of this process, not in worker processes (for debugging: "
            "a native crash or an OOM kill then ends the run instead of failing one clip).",
        ),
    ] = False,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Ingest a corpus: decode, faces, audio features, tags; commit to the store.

    Progress goes to stderr: a bar on a terminal, one line per checkpoint otherwise.
    SIGINT (Ctrl-C) or SIGTERM stops after the clips in progress: what is finished is
    committed, the exit status is 130 (SIGINT) or 143 (SIGTERM), and running the same command
    again resumes. A second signal stops at once.

    Each batch runs in a worker process: a clip on which it crashes or is killed (out of
    memory) twice is recorded as failed (worker_died) and the run goes on.
    """
    from emofeat.cli.ingest import run_ingest
    from emofeat.cli.progress import open_progress

    set_verbose(verbose)
    with errors_exit(), stopping.signals_stop_runs():
        cfg = FeatureConfig.from_file(config) if config else FeatureConfig()
        options = RunOptions(
            batch_size,
            checkpoint_every,
            workers,
            retry_failed,
            folds,
            max_megapixels,
            name,
            root_moved,
            not in_process,
        )
        try:
            with open_progress() as progress:
                result = run_ingest(corpus, source_dir, store, cfg, options, engine, dask, dry_run, progress)
        except stopping.RunInterrupted as exc:
            stopped(exc)
    if as_json:
        emit_json(result)
    else:
        from emofeat.cli.render import print_summary

        print_summary(result)


@app.command()
def catalog(
    store: StoreOpt,
    corpus: CorpusOpt = None,
    feature_version: Annotated[str | None, typer.Option("--feature-version", help="Ledger to join.")] = None,
    snapshot: SnapshotOpt = None,
    tag: TagOpt = None,
    parquet: Annotated[
        Path | None, typer.Option("--parquet", help="Write every row to this Parquet file instead.")
    ] = None,
    columns: Annotated[
        str | None, typer.Option("--columns", help="Comma-separated columns to show or export.")
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an existing --parquet file.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """List the clips of the store, one per line, with their status (or export them to Parquet:
    clip rows, labels, folds, failures, feature versions and run ids)."""
    from emofeat.audit.export import rows, select, write_parquet
    from emofeat.store import open_store
    from emofeat.store.tables import plain

    chosen = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
    with errors_exit():
        opened = open_store(store, *reference(snapshot, tag))
        if parquet is not None:
            written = write_parquet(
                opened,
                parquet,
                corpus=corpus,
                feature_version=feature_version,
                columns=chosen,
                overwrite=overwrite,
            )
        else:
            names = select(chosen or ["clip_id", "subject", "sex", "label", "status", "error_kind"])
            wanted = [corpus] if corpus else opened.corpora()
            frames = [rows(opened, name, feature_version) for name in wanted]
            frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=names)
    if parquet is not None:
        if as_json:
            emit_json(written)
        else:
            total = sum(written["rows"].values())
            typer.echo(f"{total} rows, {len(written['columns'])} columns written to {written['path']}")
        return
    if as_json:
        for row in frame[select(chosen)].to_dict(orient="records"):
            emit_json({k: plain(v) for k, v in row.items()})
    else:
        typer.echo(frame[names].to_string(index=False) if len(frame) else "(no clips)")


@app.command()
def stats(
    store: StoreOpt,
    snapshot: SnapshotOpt = None,
    tag: TagOpt = None,
    corpus: CorpusOpt = None,
    feature_version: Annotated[
        str | None, typer.Option("--feature-version", help="Needed when a corpus has several.")
    ] = None,
    keys: Annotated[
        list[str] | None, typer.Option("--key", help="Only this feature (repeat for several).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Compute normalisation statistics (mean, std, count per feature, per corpus and split)
    and commit them to the store; nothing is committed when they are stored already."""
    from emofeat.data.stats import stats as compute

    with errors_exit():
        snapshot = _snapshot_of(store, snapshot, tag)
        summary = compute(store, snapshot=snapshot, corpus=corpus, feature_version=feature_version, keys=keys)
    if as_json:
        emit_json(summary)
        return
    for name, entry in summary["corpora"].items():
        for group, clips in entry["groups"].items():
            typer.echo(f"{name}  {entry['feature_version']}  {group}  clips={clips}")
    state = "committed" if summary["committed"] else "unchanged, already stored"
    typer.echo(f"snapshot {summary['snapshot']} ({state}; computed from {summary['computed_from']})")


@app.command()
def train(
    model: Annotated[str | None, typer.Argument(help="amcm, jdcdtl, rald, gcsa or alexatt.")] = None,
    store: StoreOpt = "storage/default",
    out: Annotated[
        Path, typer.Option("--out", help="The run directory (metrics, checkpoint, pictures).")
    ] = Path("runs/latest"),
    snapshot: SnapshotOpt = None,
    tag: TagOpt = None,
    corpus: Annotated[
        list[str] | None, typer.Option("--corpus", help="Corpus to train on (repeat: sources first).")
    ] = None,
    fold: Annotated[int | None, typer.Option("--fold", help="The held-out fold (k-fold protocols).")] = None,
    epochs: Annotated[int | None, typer.Option("--epochs", help="Override the paper's epochs.")] = None,
    config: Annotated[Path | None, typer.Option("--config", help="TOML: [model], [train], [view].")] = None,
    protocol: Annotated[str | None, typer.Option("--protocol", help="A paper's protocol by name.")] = None,
    batch_size: Annotated[int | None, typer.Option("--batch-size")] = None,
    workers: Annotated[int | None, typer.Option("--workers", help="DataLoader worker processes.")] = None,
    device: Annotated[str | None, typer.Option("--device", help="auto (default), cpu or cuda.")] = None,
    seed: Annotated[int | None, typer.Option("--seed")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the run in --out.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Train one of the papers' models on a pinned snapshot; held-out figures in OUT/metrics.json."""
    from emofeat.cli.train import run_train

    with errors_exit():
        result = run_train(
            model,
            store,
            snapshot=_snapshot_of(store, snapshot, tag),
            corpora=list(corpus or []),
            fold=fold,
            epochs=epochs,
            config=config,
            out=out,
            protocol=protocol,
            resume=resume,
            overrides={"batch_size": batch_size, "workers": workers, "device": device, "seed": seed},
        )
    if as_json:
        emit_json(result["metrics"] | {"snapshot": result["snapshot"], "out": str(out)})
        return
    figures = ", ".join(f"{k}={v:.4f}" for k, v in result["metrics"].items() if isinstance(v, float))
    typer.echo(
        f"{result['model']} on {', '.join(result['corpora'])} (snapshot {result['snapshot']}): {figures}"
    )
    if result.get("reported") is not None:
        typer.echo(f"the paper reports: {result['reported']}")
    typer.echo(f"run: {out}")


@app.command()
def evaluate(
    run_dir: Annotated[Path, typer.Argument(help="A directory written by emofeat train.")],
    as_json: JsonOpt = False,
) -> None:
    """Recompute a run's held-out metrics from its checkpoint."""
    from emofeat.train.run import evaluate as evaluate_run

    with errors_exit():
        figures = evaluate_run(run_dir)
    if as_json:
        emit_json(figures)
    else:
        for key, value in figures.items():
            if isinstance(value, float):
                typer.echo(f"{key:24s} {value:.4f}")


@app.command()
def history(
    store: StoreOpt, snapshot: SnapshotOpt = None, tag: TagOpt = None, as_json: JsonOpt = False
) -> None:
    """The store's commits, newest first, with the run recorded in each (an ingestion's
    checkpoints with the run's time per stage so far, in ms per clip)."""
    from emofeat.cli.render import timings_line
    from emofeat.store import open_store

    with errors_exit():
        commits = open_store(store, *reference(snapshot, tag)).history()
    for c in commits:
        if as_json:
            emit_json(
                {
                    "snapshot": c.snapshot,
                    "message": c.message,
                    "written_at": c.written_at,
                    "metadata": c.metadata,
                }
            )
        else:
            typer.echo(f"{c.snapshot}  {c.written_at}  {c.message}")
            if timings := c.metadata.get("emofeat", {}).get("timings"):
                typer.echo(f"    {timings_line(timings)}")


def _snapshot_of(store: str | Path, snapshot: str | None, tag: str | None) -> str | None:
    """The snapshot a command that takes a reference reads: ``--tag`` resolved to its id."""
    if reference(snapshot, tag)[1] is None:
        return snapshot
    from emofeat.store import open_store

    return open_store(store, tag=tag).snapshot


@app.command()
def corpora(as_json: JsonOpt = False) -> None:
    """The registered corpus adapters: layout, native labels and their unified names."""
    from emofeat.corpora import adapter_names, get_adapter

    for name in adapter_names():
        adapter = get_adapter(name)
        if as_json:
            emit_json(
                {
                    "name": name,
                    "layout": adapter.layout,
                    "labels": list(adapter.labels),
                    "unified": dict(adapter.unified),
                    "licence": adapter.licence,
                }
            )
        else:
            typer.echo(f"{name:10s} {adapter.layout}")


@app.command()
def manifest(
    corpus: Annotated[str, typer.Argument(help="Corpus adapter name (see `emofeat corpora`).")],
    source_dir: Annotated[Path, typer.Argument(help="Root directory of the corpus on disk.")],
    folds: Annotated[int, typer.Option("--folds", min=2, help="Subject-independent folds.")] = RUN.folds,
    as_json: JsonOpt = False,
) -> None:
    """What an adapter finds under a corpus root, without opening any media file."""
    from emofeat.corpora import get_adapter, scan_corpus
    from emofeat.corpora.rows import manifest_rows

    with errors_exit():
        adapter = get_adapter(corpus)
        rows = manifest_rows(adapter, scan_corpus(adapter, source_dir), folds)
    for row in rows:
        if as_json:
            emit_json(row)
        elif "skip_reason" in row:
            typer.echo(f"skipped  {row['source']}: {row['skip_reason']}")
        else:
            typer.echo(f"fold {row['fold']}  {row['clip_id']}  {row['subject']}  {row['label']}")


@app.command()
def demo(
    store: Annotated[Path, typer.Option("--store", help="Where to write the demo store.")] = Path(
        "storage/default"
    ),
    corpus_dir: Annotated[
        Path | None, typer.Option("--corpus-dir", help="Where to build the corpus.")
    ] = None,
    engine: Annotated[str, typer.Option("--engine", help="prefect (default) or local.")] = "prefect",
    verbose: VerboseOpt = False,
) -> None:
    """Build the demo corpus from media shipped in packages, ingest it, show the result."""
    from emofeat.cli.ingest import run_ingest
    from emofeat.cli.progress import open_progress
    from emofeat.cli.render import print_summary
    from emofeat.demo import build_demo_corpus

    set_verbose(verbose)
    root = corpus_dir or store.parent / "demo-corpus"
    with errors_exit():
        build_demo_corpus(root)
        typer.echo(f"demo corpus (RAVDESS layout) written to {root}")
        options = RunOptions(batch_size=2, checkpoint_every=2, workers=2)
        with open_progress() as progress:
            result = run_ingest(
                "ravdess", root, store, FeatureConfig(), options, engine, None, False, progress
            )
    print_summary(result)
    typer.echo(f"\nThe result is in {store.resolve()} (snapshot {result['snapshot']}).")
    typer.echo("Try (after `source .venv/bin/activate`):")
    typer.echo(f"  emofeat catalog --store {store} --json | head -3")
    typer.echo(f"  emofeat versions --store {store}")
    typer.echo(f"  python -c \"import emofeat; s = emofeat.open_store('{store}'); print(s.catalog())\"")


def main() -> None:
    """The ``emofeat`` console script: run the command, then leave with its status without
    finalizing the interpreter (see :func:`emofeat.store.repo.exit_without_finalizing`)."""
    try:
        app()
        code = 0
    except SystemExit as exc:
        if isinstance(exc.code, str):  # what sys.exit does with a message
            print(exc.code, file=sys.stderr)
        code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    from emofeat.store.repo import exit_without_finalizing

    exit_without_finalizing(code)


# The commands of the other modules (each registers its own on the one app).
def _register() -> None:
    from emofeat.cli import audit_cmds, lineage_cmds, report_cmd, store_cmds

    for module in (store_cmds, lineage_cmds, audit_cmds, report_cmd):
        module.register(app)


_register()
