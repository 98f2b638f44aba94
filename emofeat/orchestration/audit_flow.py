"""The audit flow (``emofeat-audit``): one Prefect task pins the snapshot, one task per corpus
audits it; a run that finds differences ends Failed.

The work is :func:`emofeat.audit.verify.audit` (``emofeat audit`` runs the same function
without Prefect); ``flows/audit.py`` exposes the flow for deployments (a nightly schedule,
say). Parameters and the result stay plain data: the result is
:meth:`~emofeat.audit.verify.AuditReport.to_dict` of the whole snapshot. Every finding is
logged at error level, then the run fails with :class:`~emofeat.audit.verify.AuditFailed`,
whose message names the number of findings; notes never fail it.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from emofeat.audit import DEFAULT_SAMPLE
from emofeat.audit.verify import AuditFailed, AuditReport, audit
from emofeat.errors import ConfigError
from emofeat.orchestration import context
from emofeat.orchestration.forking import make_forks_exit_cleanly
from emofeat.store import open_store

make_forks_exit_cleanly()

#: Findings logged one per line; the rest are counted (the summary lists them all).
LOGGED_FINDINGS = 200


@task(name="audit-plan", cache_policy=NO_CACHE, retries=0)
def plan_task(
    store: str, corpus: str | None, snapshot: str | None, tag: str | None, root: str | None
) -> tuple[str, list[str], dict[str, str]]:
    """The snapshot to audit (resolved once), the corpora to audit, and the moved roots.

    Raises
    ------
    ConfigError
        When both ``snapshot`` and ``tag`` are given, or ``root`` comes without ``corpus``
        for a store of several corpora.
    NotFoundError
        When the store, snapshot, tag or corpus does not exist.
    """
    if snapshot is not None and tag is not None:
        raise ConfigError("give snapshot or tag, not both")
    fs = open_store(store, None if snapshot == "latest" else snapshot, tag)
    names = fs.corpora()
    chosen = [corpus] if corpus is not None else names
    roots: dict[str, str] = {}
    if root is not None:
        if len(chosen) != 1:
            raise ConfigError(f"root needs corpus: the store has {len(names)} corpora")
        roots = {chosen[0]: root}
    return fs.snapshot, chosen, roots


@task(name="audit-corpus", cache_policy=NO_CACHE, retries=0)
def audit_task(
    store: str,
    snapshot: str,
    corpus: str,
    feature_version: str | None,
    sample: int,
    seed: int,
    roots: dict[str, str],
    workers: int,
) -> AuditReport:
    """The audit of one corpus on ``snapshot`` (see :func:`emofeat.audit.verify.audit`)."""
    return audit(
        store,
        corpus=corpus,
        feature_version=feature_version,
        sample=sample,
        seed=seed,
        snapshot=snapshot,
        roots=roots or None,
        workers=workers,
        progress=context.current_progress.get(),
    )


def merge_reports(store: str, snapshot: str, reports: list[AuditReport]) -> AuditReport:
    """One report of the snapshot from the reports of its corpora (in order)."""
    return AuditReport(
        store,
        snapshot,
        [c for r in reports for c in r.corpora],
        [f for r in reports for f in r.findings],
        [n for r in reports for n in r.notes],
        round(sum(r.seconds for r in reports), 3),
    )


def failure_message(report: AuditReport) -> str:
    """What a failed audit's run says: the findings, the clips they touch, the snapshot."""
    clips = len({f.clip for f in report.findings if f.clip is not None})
    kinds = ", ".join(
        f"{kind} {sum(f.kind == kind for f in report.findings)}"
        for kind in sorted({f.kind for f in report.findings})
    )
    return (
        f"the audit found {len(report.findings)} findings ({kinds}; {clips} clips affected) in store "
        f"{report.store} at snapshot {report.snapshot}; each is in this run's log, and `emofeat audit "
        f"--store {report.store} --snapshot {report.snapshot} --json` lists them"
    )


@flow(name="emofeat-audit", log_prints=True, validate_parameters=False)
def audit_flow(
    store: str,
    corpus: str | None = None,
    feature_version: str | None = None,
    sample: int = DEFAULT_SAMPLE,
    seed: int = 0,
    root: str | None = None,
    workers: int = 1,
    snapshot: str | None = None,
    tag: str | None = None,
) -> dict[str, Any]:
    """Audit ``corpus`` (default: every corpus) of the store at ``store`` on ``snapshot`` or
    ``tag`` (default: the tip of ``main``, resolved once): re-hash the sampled clips' sources,
    verify their stored arrays' checksums and re-extract them.

    ``sample`` clips per corpus are drawn with ``seed`` (``0``: every clip); ``feature_version``
    needs ``corpus`` (default: each corpus's latest); ``root`` is where the one audited corpus
    is now, if it moved; ``workers`` processes re-extract at once.

    Returns
    -------
    dict
        :meth:`emofeat.audit.verify.AuditReport.to_dict` of the snapshot (``passed`` true).

    Raises
    ------
    AuditFailed
        When the audit found differences: the run ends Failed, its message names how many
        (every finding is logged first).
    ConfigError
        When the parameters contradict each other (see :func:`emofeat.audit.verify.audit`).
    NotFoundError
        When the store, snapshot, tag, corpus or feature version does not exist.
    """
    if feature_version is not None and corpus is None:
        raise ConfigError("give the corpus of the feature version (corpus)")
    pinned, corpora, roots = plan_task(store, corpus, snapshot, tag, root)
    reports = [
        audit_task(store, pinned, name, feature_version, sample, seed, roots, workers) for name in corpora
    ]
    report = merge_reports(store, pinned, reports)
    if report.passed:
        print(
            f"audit passed: {sum(len(c.sampled) for c in report.corpora)} of "
            f"{sum(c.clips for c in report.corpora)} clips at snapshot {pinned}"
        )
        return report.to_dict()
    logger = get_run_logger()
    for finding in report.findings[:LOGGED_FINDINGS]:
        logger.error("%s: %s", finding.kind, finding.message)
    if len(report.findings) > LOGGED_FINDINGS:
        logger.error("... and %d more findings", len(report.findings) - LOGGED_FINDINGS)
    raise AuditFailed(failure_message(report))
