"""The quality-control report's tables, computed from catalog columns only (no clip arrays):
clip counts by status, failures grouped by stage and kind, and folds by subject.

Every function takes the catalog of one corpus as :meth:`emofeat.store.FeatureStore.catalog`
returns it (joined with one feature version's ledger).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

#: Clips on a contact sheet and clips with a timeline, per corpus, by default (here, not in
#: :mod:`emofeat.audit.report`, so that the command line reads them without matplotlib).
SAMPLE = 24
TIMELINES = 3
#: Example clips listed per failure group and subjects listed per fold.
EXAMPLES = 3
SUBJECTS_SHOWN = 8


def present(catalog: pd.DataFrame) -> pd.DataFrame:
    """The rows of clips whose source is still under the corpus root (not marked removed)."""
    return catalog[catalog["removed"].isna() | (catalog["removed"] == "")]


def status_counts(catalog: pd.DataFrame) -> dict[str, int]:
    """Clips by status: ``ok``, ``failed``, ``pending`` (not processed in the feature version)
    and ``removed`` (their source is gone from the root)."""
    here = present(catalog)
    status = here["status"].fillna("pending")
    return {
        "ok": int((status == "ok").sum()),
        "failed": int((status == "failed").sum()),
        "pending": int((status == "pending").sum()),
        "removed": len(catalog) - len(here),
    }


def failure_table(catalog: pd.DataFrame, examples: int = EXAMPLES) -> list[dict[str, Any]]:
    """Failed clips grouped by ``(stage, error_kind)``, most frequent first.

    Parameters
    ----------
    catalog : pandas.DataFrame
        One corpus's catalog.
    examples : int, default EXAMPLES
        Example clips (the first by clip id) per group.

    Returns
    -------
    list of dict
        ``stage``, ``kind``, ``count`` and ``examples`` (a list of ``{"clip_id", "error"}``).
    """
    failed = present(catalog)
    failed = failed[failed["status"] == "failed"]
    rows: list[dict[str, Any]] = []
    keys = [failed["stage"].fillna("unknown"), failed["error_kind"].fillna("unknown")]
    for (stage, kind), group in failed.groupby(keys, sort=True):
        first = group.sort_values("clip_id").head(examples)
        rows.append(
            {
                "stage": str(stage),
                "kind": str(kind),
                "count": len(group),
                "examples": [
                    {"clip_id": str(c), "error": "" if pd.isna(e) else str(e)}
                    for c, e in zip(first["clip_id"], first["error"], strict=True)
                ],
            }
        )
    return sorted(rows, key=lambda r: -int(r["count"]))


def fold_table(catalog: pd.DataFrame, shown: int = SUBJECTS_SHOWN) -> tuple[list[dict[str, Any]], list[str]]:
    """Clips and subjects per fold, and the subjects found in more than one fold.

    Parameters
    ----------
    catalog : pandas.DataFrame
        One corpus's catalog.
    shown : int, default SUBJECTS_SHOWN
        Subjects named per fold (the first by name).

    Returns
    -------
    tuple
        Rows of ``fold``, ``clips``, ``subjects`` and ``names`` (up to ``shown`` subjects),
        by fold; and the sorted subjects that are in several folds (a subject-independent
        split has none). Clips without a recorded fold are left out.
    """
    here = present(catalog)
    here = here[here["fold"].notna()]
    subjects = here["subject"].fillna("").astype(str)
    rows = []
    for fold, group in here.groupby(here["fold"].astype(int), sort=True):
        names = sorted(set(subjects[group.index]) - {""})
        rows.append({"fold": int(fold), "clips": len(group), "subjects": len(names), "names": names[:shown]})
    folds_of = here.assign(subject=subjects)[subjects != ""].groupby("subject")["fold"].nunique()
    return rows, sorted(str(s) for s in folds_of[folds_of > 1].index)
