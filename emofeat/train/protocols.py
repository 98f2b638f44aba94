"""The papers' evaluation protocols as data: corpus, label set, folds or official split, the
metric, the paper's hyper-parameters and the figure it reports.

``emofeat train --protocol NAME --store ...`` runs one; its ``metrics.json`` shows our figure
beside the paper's (``reported``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from emofeat.errors import ConfigError


@dataclass(frozen=True)
class Protocol:
    """One paper's protocol.

    ``scheme = "folds"``: k-fold cross-validation over the catalog's subject-independent
    folds (every fold held out in turn); ``"split"``: train on ``train_split``, judge on
    ``eval_split``. ``label``: ``native`` (the corpus's own classes) or ``unified``.
    ``reported`` is the paper's figure of ``metric`` (a fraction: 0.9622 = 96.22 %).
    """

    name: str
    model: str
    corpora: tuple[str, ...]
    scheme: Literal["folds", "split"]
    metric: str
    reported: float | Mapping[str, float]
    label: str = "native"
    folds: int = 5
    train_split: str = "train"
    eval_split: str = "validation"
    train: Mapping[str, Any] = field(default_factory=dict)
    model_options: Mapping[str, Any] = field(default_factory=dict)
    note: str = ""


PROTOCOLS: dict[str, Protocol] = {
    p.name: p
    for p in (
        Protocol(
            "amcm-enterface",
            "amcm",
            ("enterface",),
            "folds",
            "accuracy",
            0.9622,
            note="5-fold cross-validation, 6 classes; the paper does not say whether its folds are "
            "subject-independent: ours are",
        ),
        Protocol("amcm-ravdess", "amcm", ("ravdess",), "folds", "accuracy", 0.9755, note="5-fold, 8 classes"),
        Protocol(
            "jdcdtl-enterface-savee-emodb",
            "jdcdtl",
            ("enterface", "savee", "emodb"),
            "folds",
            "accuracy",
            {"enterface": 0.93, "savee": 0.96, "emodb": 0.89},
            label="unified",
            note="sources first; one model over the unified vocabulary (visual eNTERFACE 93 %, "
            "visual SAVEE 96-99 %, audio EMO-DB 89 %)",
        ),
        Protocol(
            "rald-fgemotions",
            "rald",
            ("fgemotions",),
            "split",
            "mean_class_accuracy",
            0.9734,
            eval_split="test",
            note="33 fine classes under 6 coarse ones; the paper's 97.34 % is the mean of its 33 "
            "per-class accuracies (its 'Avg.'), so it compares with mean_class_accuracy",
        ),
        Protocol("rald-rafdb", "rald", ("rafdb",), "split", "accuracy", 0.9058, eval_split="test"),
        Protocol(
            "rald-affectnet", "rald", ("affectnet",), "split", "accuracy", 0.6524, eval_split="validation"
        ),
        Protocol(
            "gcsa-affwild2",
            "gcsa",
            ("affwild2",),
            "split",
            "abaw_f1",
            0.4651,
            note="ABAW expression F1 over every annotated frame of the validation set (8 classes)",
        ),
        Protocol(
            "alexatt-recola",
            "alexatt",
            ("recola",),
            "split",
            "ccc",
            {"ccc_arousal": 0.729, "ccc_valence": 0.718},
            eval_split="validation",
            note="the paper trains on 14 and tests on 7 of RECOLA's recordings without listing them; "
            "AVEC 2016 releases labels for its train and development partitions (9 each): train on "
            "train, judge on development",
        ),
    )
}


def get_protocol(name: str) -> Protocol:
    """The protocol called ``name``.

    Raises
    ------
    ConfigError
        For an unknown name.
    """
    if name not in PROTOCOLS:
        raise ConfigError(f"unknown protocol {name!r}; the protocols are: {', '.join(PROTOCOLS)}")
    return PROTOCOLS[name]
