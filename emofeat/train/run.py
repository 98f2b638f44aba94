"""One training run: datasets of a pinned snapshot, the model, the loop, the held-out
metrics, the checkpoint and the report (what ``emofeat train`` and ``emofeat evaluate`` run).

A run directory holds ``last.pt`` (the checkpoint), ``metrics.json`` (the snapshot, the
feature versions, the model and view configs, the seed, the fold, the package versions, the
final held-out figures and the history per epoch), ``learning_curve.png`` and
``confusion.png`` (classification) or ``traces.png`` (regression).

Regression runs compensate the annotation delay (``[model] max_delay_s``, 0 turns it off):
each dimension's delay is chosen on the validation partition (:func:`delay_partition`) and
applied to the held-out predictions before they are scored; ``metrics.json`` records the
delays (``delay_arousal``, ``delay_valence`` in steps, ``*_s`` in seconds), where they were
chosen and the undelayed CCCs.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import platform
from collections.abc import Callable, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import torch

from emofeat.corpora.base import get_adapter
from emofeat.corpora.vocabulary import UNIFIED
from emofeat.data import Augment, FaceAugment, FeatureDataset, SpecAugment, open_dataset
from emofeat.data.dataset import native_labels
from emofeat.errors import ConfigError
from emofeat.store import FeatureStore, open_store
from emofeat.train import metrics as m
from emofeat.train.jdcdtl import Jdcdtl
from emofeat.train.loop import TrainConfig, Trainer, pick_device, predict
from emofeat.train.protocols import Protocol
from emofeat.train.report import confusion_png, lines_png
from emofeat.train.specs import LabelInfo, ModelSpec, get_spec, label_info
from emofeat.train.staged import StageModel, stage_loss

METRICS = "metrics.json"
CHECKPOINT = "last.pt"


@dataclasses.dataclass(frozen=True)
class RunPlan:
    """Everything that defines a run (recorded in ``metrics.json``)."""

    model: str
    store: str
    snapshot: str
    corpora: tuple[str, ...]
    label: str
    fold: int | None
    train_split: str | None
    eval_split: str | None
    model_options: Mapping[str, Any]
    view_options: Mapping[str, Any]
    train: TrainConfig
    protocol: str | None = None
    data: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # normalize, augment


def plan_run(
    model: str,
    store: str | Path,
    *,
    corpora: Sequence[str],
    snapshot: str | None = None,
    fold: int | None = None,
    protocol: Protocol | None = None,
    model_options: Mapping[str, Any] | None = None,
    view_options: Mapping[str, Any] | None = None,
    train: Mapping[str, Any] | None = None,
    data: Mapping[str, Any] | None = None,
) -> RunPlan:
    """Resolve a run: the snapshot (``None`` or ``"latest"``: the tip now, recorded), the
    label scheme, the held-out fold or split, and the configs.

    Raises
    ------
    ConfigError
        On an unknown model, no corpus, or a protocol of another model.
    """
    spec = get_spec(model)
    if protocol is not None and protocol.model != model:
        raise ConfigError(f"protocol {protocol.name} is for {protocol.model}, not {model}")
    corpora = tuple(corpora or (protocol.corpora if protocol else ()))
    if not corpora:
        raise ConfigError("name the corpus (or corpora) to train on")
    pinned = open_store(store, None if snapshot in (None, "latest") else snapshot)
    catalog = pinned.catalog(corpora[0])
    folds = corpus_folds(pinned, corpora)
    has_splits = bool(catalog["split"].dropna().astype(str).str.len().gt(0).any())
    scheme = protocol.scheme if protocol else ("folds" if fold is not None or not has_splits else "split")
    label = protocol.label if protocol else ("native" if len(corpora) == 1 else "unified")
    config = spec.train.replace(**dict(protocol.train if protocol else {})).replace(**dict(train or {}))
    return RunPlan(
        model=model,
        store=str(store),
        snapshot=pinned.snapshot,
        corpora=corpora,
        label=label,
        fold=(int(fold) if fold is not None else folds[0] if folds else 0) if scheme == "folds" else None,
        train_split=(protocol.train_split if protocol else "train") if scheme == "split" else None,
        eval_split=(protocol.eval_split if protocol else "validation") if scheme == "split" else None,
        model_options={**dict(protocol.model_options if protocol else {}), **dict(model_options or {})},
        view_options={**dict(spec.view_options), **dict(view_options or {})},
        data=_data_options({**dict(spec.data), **dict(data or {})}),
        train=config,
        protocol=protocol.name if protocol else None,
    )


def _data_options(data: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(data) - {"normalize", "augment"}
    if unknown:
        raise ConfigError(f"unknown [data] option(s) {sorted(unknown)}; known: augment, normalize")
    make_augment(data.get("augment"))  # fail early on a bad option
    return dict(data)


def make_augment(options: Mapping[str, Any] | None) -> Augment | None:
    """The training augmentations of ``[data] augment``: ``face = {crop, flip, rotate}`` and
    ``spectrogram = {time_masks, time_width, freq_masks, freq_width}`` (an empty table: the
    defaults; ``augment = {}``: none).

    Raises
    ------
    ConfigError
        On an unknown part or option.
    """
    if not options:
        return None
    unknown = set(options) - {"face", "spectrogram"}
    if unknown:
        raise ConfigError(f"unknown augmentation(s) {sorted(unknown)}; known: face, spectrogram")
    try:
        face = FaceAugment(**options["face"]) if "face" in options else None
        spectrogram = SpecAugment(**options["spectrogram"]) if "spectrogram" in options else None
    except TypeError as exc:
        raise ConfigError(f"bad augmentation option: {exc}") from exc
    return Augment(face=face, spectrogram=spectrogram)


def corpus_folds(store: FeatureStore, corpora: Sequence[str]) -> list[int]:
    """The subject-independent folds the corpora's catalogs assign, sorted."""
    catalog = store.catalog()
    return sorted(int(f) for f in catalog[catalog["corpus"].isin(list(corpora))]["fold"].dropna().unique())


def labels_of(plan: RunPlan, spec: ModelSpec) -> LabelInfo:
    """The classes of a run: the unified vocabulary, or the first corpus's own classes (with
    its fine/coarse hierarchy where it has one)."""
    if spec.task == "regression":
        return LabelInfo()
    if plan.label == "unified":
        return label_info(UNIFIED)
    store = open_store(plan.store, plan.snapshot)
    adapter = get_adapter(store.adapter(plan.corpora[0]))
    hierarchy = getattr(importlib.import_module(type(adapter).__module__), "HIERARCHY", None)
    names = tuple(native_labels(store, plan.corpora[0]))
    return label_info(names, hierarchy if isinstance(hierarchy, Mapping) else None)


def _common(plan: RunPlan, feature_versions: Mapping[str, str] | None) -> dict[str, Any]:
    """The dataset options every partition of a run shares."""
    return {
        "normalize": plan.data.get("normalize"),
        "seed": plan.train.seed,
        "snapshot": plan.snapshot,
        "corpus": list(plan.corpora),
        "label": plan.label,
        "feature_version": dict(feature_versions) if feature_versions else None,
        **dict(plan.view_options),
    }


def datasets(
    plan: RunPlan, spec: ModelSpec, *, feature_versions: Mapping[str, str] | None = None
) -> tuple[FeatureDataset, FeatureDataset]:
    """The training and held-out datasets of a run."""
    augment = make_augment(plan.data.get("augment"))
    common = _common(plan, feature_versions)
    if plan.fold is not None:
        folds = corpus_folds(open_store(plan.store, plan.snapshot), plan.corpora)
        if plan.fold not in folds:
            raise ConfigError(f"fold {plan.fold} is not among the corpora's folds {folds}")
        rest = [f for f in folds if f != plan.fold]
        if not rest:
            raise ConfigError("k-fold training needs at least two folds")
        return (
            open_dataset(plan.store, spec.view, folds=rest, augment=augment, **common),
            open_dataset(plan.store, spec.view, folds=[plan.fold], **common),
        )
    return (
        open_dataset(plan.store, spec.view, split=plan.train_split, augment=augment, **common),
        open_dataset(plan.store, spec.view, split=plan.eval_split, **common),
    )


def delay_partition(
    plan: RunPlan,
    spec: ModelSpec,
    held_out: FeatureDataset,
    *,
    feature_versions: Mapping[str, str] | None = None,
) -> tuple[FeatureDataset, str]:
    """Where a regression run chooses its annotation delay, and that partition's name: the
    ``validation`` split (``held_out`` itself when it is that split), or in a k-fold run the
    held-out fold (there is no other partition the model has not trained on).

    Raises
    ------
    ConfigError
        When the corpora have no clip in a ``validation`` split (turn the compensation off
        with ``[model] max_delay_s = 0``).
    """
    if plan.fold is not None:
        return held_out, f"fold {plan.fold} (held out)"
    if plan.eval_split == "validation":
        return held_out, "validation"
    try:
        dataset = open_dataset(plan.store, spec.view, split="validation", **_common(plan, feature_versions))
    except ConfigError as exc:
        raise ConfigError(
            f"the annotation delay is chosen on the validation split, which these corpora lack ({exc}); "
            "set [model] max_delay_s = 0 to score without delay compensation"
        ) from exc
    return dataset, "validation"


def evaluate_model(
    spec: ModelSpec,
    model: torch.nn.Module,
    dataset: FeatureDataset,
    labels: LabelInfo,
    batch_size: int,
    *,
    scoring: Mapping[str, Any] | None = None,
    delay_on: tuple[FeatureDataset, str] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Held-out figures of ``model`` on ``dataset`` (plain data) and what the report draws.

    For regression, ``scoring["max_delay_s"]`` (the spec's default when ``scoring`` is None)
    turns on annotation-delay compensation: the delay of each dimension is the one, between 0
    and that many seconds, whose delayed predictions score the best CCC on ``delay_on`` (a
    dataset and its name; default ``dataset``), and every figure is computed on the held-out
    predictions delayed by it (:func:`emofeat.train.metrics.shift`).
    """
    device = next(model.parameters()).device
    if spec.task == "regression":
        options = spec.scoring_options({}) if scoring is None else dict(scoring)
        return _evaluate_regression(
            model, dataset, batch_size, device, float(options.get("max_delay_s", 0.0)), delay_on
        )
    preds, targets, frame_preds, frame_targets = [], [], [], []
    for outputs, batch in predict(model, dataset, batch_size, device):
        pred = outputs["logits"].argmax(dim=-1)
        preds.append(pred)
        targets.append(spec.target(batch))
        frames = batch.get(spec.frame_labels) if spec.frame_labels else None
        if isinstance(frames, torch.Tensor) and frames.ndim == 2:
            frame_preds.append(pred[:, None].expand_as(frames).reshape(-1))
            frame_targets.append(frames.reshape(-1).long())
    pred_all, target_all = torch.cat(preds).numpy(), torch.cat(targets).numpy()
    if (target_all >= 0).any():
        figures = m.classification_report(pred_all, target_all, labels.n_classes)
    else:  # nothing labelled to judge (say so, do not invent a figure)
        n = labels.n_classes
        figures = {"n": 0, "accuracy": float("nan"), "confusion": np.zeros((n, n), np.int64).tolist()}
    if frame_targets and labels.n_classes == 8:
        frames = torch.cat(frame_targets).numpy()
        if (frames >= 0).any():
            figures["abaw_f1"] = m.abaw_expression_f1(torch.cat(frame_preds).numpy(), frames)
    return figures, {"confusion": np.asarray(figures["confusion"])}


def _regression_series(
    model: torch.nn.Module, dataset: FeatureDataset, batch_size: int, device: torch.device
) -> dict[str, tuple[list[np.ndarray], list[np.ndarray]]]:
    """Per dimension, the predicted and gold series of each clip (its items' real steps in
    order), clips in the order they first appear."""
    series: dict[str, dict[str, list[np.ndarray]]] = {}
    order: list[str] = []
    for outputs, batch in predict(model, dataset, batch_size, device):
        mask = batch["step_mask"].numpy()
        for i, clip in enumerate(batch["clip_id"]):
            if clip not in series:
                series[clip] = {"arousal": [], "valence": [], "gold_arousal": [], "gold_valence": []}
                order.append(clip)
            for name in ("arousal", "valence"):
                if name in batch:
                    series[clip][name].append(outputs[name][i].numpy()[mask[i]])
                    series[clip]["gold_" + name].append(batch[name][i].numpy()[mask[i]])
    out = {}
    for name in ("arousal", "valence"):
        preds = [np.concatenate(series[c][name]) for c in order if series[c][name]]
        golds = [np.concatenate(series[c]["gold_" + name]) for c in order if series[c][name]]
        if preds:
            out[name] = (preds, golds)
    return out


def _evaluate_regression(
    model: torch.nn.Module,
    dataset: FeatureDataset,
    batch_size: int,
    device: torch.device,
    max_delay_s: float,
    delay_on: tuple[FeatureDataset, str] | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    if max_delay_s < 0:
        raise ConfigError(f"max_delay_s must be at least 0, not {max_delay_s}")
    held_out = _regression_series(model, dataset, batch_size, device)
    step_s = float(dataset.view.options().get("step_s", 0.0))
    max_steps = round(max_delay_s / step_s) if max_delay_s and step_s > 0 else 0
    chosen_on = held_out
    if max_steps and delay_on is not None and delay_on[0] is not dataset:
        chosen_on = _regression_series(model, delay_on[0], batch_size, device)
    figures: dict[str, Any] = {}
    traces: dict[str, Any] = {}
    for name, (preds, golds) in held_out.items():
        if max_steps and name in chosen_on:
            delay, _ = m.best_delay(*chosen_on[name], delays=range(max_steps + 1))
            figures[f"ccc_{name}_undelayed"] = m.ccc_sequences(preds, golds, pooling="concat")
            preds = [m.shift(p, delay) for p in preds]
            figures[f"delay_{name}"] = delay
            figures[f"delay_{name}_s"] = round(delay * step_s, 6)
            figures["delay_chosen_on"] = delay_on[1] if delay_on is not None else "held-out"
        figures[f"ccc_{name}"] = m.ccc_sequences(preds, golds, pooling="concat")
        figures[f"ccc_{name}_per_sequence"] = m.ccc_sequences(preds, golds, pooling="per_sequence")
        figures[f"r2_{name}"] = m.r2(np.concatenate(preds), np.concatenate(golds))
        traces[name] = (preds[0], golds[0])
    if "ccc_arousal" in figures and "ccc_valence" in figures:
        figures["ccc"] = (figures["ccc_arousal"] + figures["ccc_valence"]) / 2
    return figures, traces


def packages() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in ("emofeat", "torch", "numpy", "zarr", "icechunk"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "unknown"
    return out


def run(
    plan: RunPlan,
    out: str | Path,
    *,
    resume: bool = False,
    reported: Any = None,
    progress: Callable[[int, int, int, float], None] | None = None,
) -> dict[str, Any]:
    """Train and judge one run into ``out``; returns what ``metrics.json`` holds.
    ``progress(epoch, items done, items in the epoch, running loss)`` is called every step.

    Raises
    ------
    ConfigError
        When ``out`` already holds a run and ``resume`` is False (nothing is overwritten).
    """
    out = Path(out)
    checkpoint = out / CHECKPOINT
    if (checkpoint.exists() or any(out.glob("stage-*/" + CHECKPOINT))) and not resume:
        raise ConfigError(f"{out} already holds a run: pass --resume to continue it, or choose another --out")
    spec = get_spec(plan.model)
    labels = labels_of(plan, spec)
    options = dict(plan.model_options)
    if plan.model == "rald" and labels.coarse_of is not None:
        options.setdefault("hierarchy", labels.coarse_of)
        options.setdefault("n_coarse", len(labels.coarse_names))
    staged = plan.model == "jdcdtl" and len(plan.corpora) >= 3
    if staged:  # the paper's schedule: one head per domain, four stages
        options.setdefault("corpora", tuple(plan.corpora))
    train_ds, eval_ds = datasets(plan, spec)
    scoring = spec.scoring_options(plan.model_options)
    delay_on = (
        delay_partition(plan, spec, eval_ds)
        if spec.task == "regression" and scoring.get("max_delay_s")
        else None
    )
    torch.manual_seed(plan.train.seed)
    model, model_config, loss_options = spec.build(options, labels, train_ds[0])
    record = {
        "snapshot": plan.snapshot,
        "feature_versions": dict(train_ds.feature_versions),
        "model": plan.model,
        "config": _plain(dataclasses.asdict(model_config)),
        "loss": _plain(loss_options),
        "scoring": _plain(scoring),
        "train": _plain(dataclasses.asdict(plan.train)),
        "view": {"name": spec.view, "options": _plain(train_ds.view.options())},
        "seed": plan.train.seed,
        "fold": plan.fold,
        "split": {"train": plan.train_split, "eval": plan.eval_split},
        "split_protocol": "subject_independent" if plan.fold is not None else "official",
        "data_options": _plain(plan.data),
        "corpora": list(plan.corpora),
        "label": plan.label,
        "classes": list(labels.names),
        "protocol": plan.protocol,
        "store": plan.store,
        "packages": packages(),
        "data": {"train": train_ds.provenance(), "eval": eval_ds.provenance()},
    }
    if staged:
        assert isinstance(model, Jdcdtl)
        return _run_staged(plan, spec, model, labels, loss_options, record, out, reported, progress)
    trainer = Trainer(
        model,
        train_ds,
        spec.loss(loss_options, labels),
        plan.train,
        out,
        confusion_of=(lambda o, b: (o["logits"].argmax(-1), spec.target(b)))
        if spec.task == "classification"
        else None,
        n_classes=labels.n_classes,
        record=record,
        progress=progress,
    )
    if resume and checkpoint.exists():
        trainer.load(checkpoint)
    drawn: dict[str, Any] = {}

    def judge(model: torch.nn.Module) -> tuple[dict[str, Any], dict[str, Any]]:
        return evaluate_model(
            spec, model, eval_ds, labels, plan.train.batch_size, scoring=scoring, delay_on=delay_on
        )

    def on_epoch(epoch: int, t: Trainer) -> dict[str, Any]:
        figures, pictures = judge(t.model)
        drawn.update(pictures)
        return {k: v for k, v in figures.items() if k != "confusion"} | {"eval": figures}

    history = trainer.fit(on_epoch)
    final = dict(history[-1]["eval"]) if history else {}
    if not drawn and history:  # resumed after the last epoch: judge again for the pictures
        final, drawn = judge(trainer.model)
    result = {
        **record,
        "metrics": _plain(final),
        "history": [_plain({k: v for k, v in h.items() if k != "eval"}) for h in history],
        "reported": _plain(reported),
        "device": str(trainer.device),
        "loader_share": _share(trainer.step_time),
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / METRICS).write_text(json.dumps(result, indent=1, sort_keys=True, allow_nan=True))
    _pictures(out, result, drawn, labels)
    return result


def _run_staged(
    plan: RunPlan,
    spec: ModelSpec,
    model: Jdcdtl,
    labels: LabelInfo,
    loss_options: Mapping[str, Any],
    record: dict[str, Any],
    out: Path,
    reported: Any,
    progress: Callable[[int, int, int, float], None] | None,
) -> dict[str, Any]:
    """JDCDTL's four stages (:mod:`emofeat.train.staged`), each ``plan.train.epochs`` long and
    checkpointed in ``out/stage-<k>-<name>/`` (a finished stage is not run again), then the
    joint model judged on every corpus's held-out data (with each corpus's accuracy)."""
    history: list[dict[str, Any]] = []
    drawn: dict[str, Any] = {}
    trainer: Trainer | None = None
    joint: StageModel | None = None
    for k, stage in enumerate(model.plan, 1):
        stage_train, stage_eval = datasets(dataclasses.replace(plan, corpora=stage.corpora), spec)
        joint = StageModel(model, stage)
        trainer = Trainer(
            joint,
            stage_train,
            stage_loss(stage, float(loss_options["margin"])),
            plan.train,
            out / f"stage-{k}-{stage.name}",
            confusion_of=lambda o, b: (o["logits"].argmax(-1), b["label"]),
            n_classes=labels.n_classes,
            record=record,
            progress=progress,
        )
        if (trainer.out / CHECKPOINT).exists():
            trainer.load(trainer.out / CHECKPOINT)

        def on_epoch(epoch: int, t: Trainer, held_out: FeatureDataset = stage_eval) -> dict[str, Any]:
            figures, pictures = evaluate_model(spec, t.model, held_out, labels, plan.train.batch_size)
            drawn.update(pictures)
            return {k: v for k, v in figures.items() if k != "confusion"} | {"eval": figures}

        history += [{"stage": stage.name, **h} for h in trainer.fit(on_epoch)]
    assert trainer is not None
    assert joint is not None
    _, every = datasets(plan, spec)
    final, drawn = evaluate_model(spec, joint, every, labels, plan.train.batch_size)
    final.update(_per_corpus(spec, joint, plan, labels))
    state = trainer.state() | {"model": model.state_dict()}  # the network itself, for evaluate
    out.mkdir(parents=True, exist_ok=True)
    torch.save(state, out / CHECKPOINT)
    result = {
        **record,
        "stages": [s.name for s in model.plan],
        "metrics": _plain(final),
        "history": [_plain({k: v for k, v in h.items() if k != "eval"}) for h in history],
        "reported": _plain(reported),
        "device": str(trainer.device),
        "loader_share": _share(trainer.step_time),
    }
    (out / METRICS).write_text(json.dumps(result, indent=1, sort_keys=True, allow_nan=True))
    _pictures(out, result, drawn, labels)
    return result


def _per_corpus(
    spec: ModelSpec, model: torch.nn.Module, plan: RunPlan, labels: LabelInfo
) -> dict[str, float]:
    """``accuracy_<corpus>``: each corpus's held-out accuracy (the cross-corpus papers report
    one figure a corpus)."""
    out = {}
    for corpus in plan.corpora:
        held_out = datasets(dataclasses.replace(plan, corpora=(corpus,)), spec)[1]
        out[f"accuracy_{corpus}"] = float(
            evaluate_model(spec, model, held_out, labels, plan.train.batch_size)[0]["accuracy"]
        )
    return out


def _share(times: Mapping[str, float]) -> float | None:
    total = times["data"] + times["compute"]
    return times["data"] / total if total else None


def _pictures(out: Path, result: Mapping[str, Any], drawn: Mapping[str, Any], labels: LabelInfo) -> None:
    history = result["history"]
    curves = {"train loss": [h["train_loss"] for h in history]}
    metric = next((k for k in ("accuracy", "ccc", "ccc_arousal") if history and k in history[-1]), None)
    if metric:
        curves[f"held-out {metric}"] = [h.get(metric, float("nan")) for h in history]
    lines_png(curves, out / "learning_curve.png", "learning curve (per epoch)")
    if "confusion" in drawn:
        confusion_png(np.asarray(drawn["confusion"]), list(labels.names), out / "confusion.png")
    traces = {
        f"{k} {w}": v[i] for k, v in drawn.items() if k != "confusion" for i, w in ((0, "pred"), (1, "gold"))
    }
    if traces:
        lines_png(traces, out / "traces.png", "first held-out sequence: predicted and gold")


def _plain(value: Any) -> Any:
    """JSON-able plain data (tuples to lists, NumPy scalars to numbers)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def evaluate(run_dir: str | Path) -> dict[str, Any]:
    """Recompute the held-out metrics of the checkpoint in ``run_dir`` (same snapshot,
    feature versions, view, fold and model config as it was trained with).

    Raises
    ------
    ConfigError
        When the directory holds no run.
    """
    run_dir = Path(run_dir)
    if not (run_dir / METRICS).is_file() or not (run_dir / CHECKPOINT).is_file():
        raise ConfigError(f"{run_dir} holds no run ({METRICS} and {CHECKPOINT} are written by emofeat train)")
    record = json.loads((run_dir / METRICS).read_text())
    spec = get_spec(record["model"])
    plan = RunPlan(
        model=record["model"],
        store=record["store"],
        snapshot=record["snapshot"],
        corpora=tuple(record["corpora"]),
        label=record["label"],
        fold=record["fold"],
        train_split=record["split"]["train"],
        eval_split=record["split"]["eval"],
        model_options={},
        view_options=record["view"]["options"],
        train=TrainConfig(**record["train"]),
        data={"normalize": record.get("data_options", {}).get("normalize")},  # judged without augmentation
    )
    labels = labels_of(plan, spec)
    _, eval_ds = datasets(plan, spec, feature_versions=record["feature_versions"])
    scoring = dict(record.get("scoring") or {})  # a run recorded without it scored without a delay
    delay_on = (
        delay_partition(plan, spec, eval_ds, feature_versions=record["feature_versions"])
        if spec.task == "regression" and scoring.get("max_delay_s")
        else None
    )
    model, _, _ = spec.build(_config_options(record["config"]), labels)
    state = torch.load(run_dir / CHECKPOINT, map_location="cpu", weights_only=True)
    model.load_state_dict(state["model"])
    if record.get("stages") and isinstance(model, Jdcdtl):
        model = StageModel(model, model.plan[-1])  # judged as the joint stage routes items
    model.to(pick_device(plan.train.device))
    figures, _ = evaluate_model(
        spec, model, eval_ds, labels, plan.train.batch_size, scoring=scoring, delay_on=delay_on
    )
    if record.get("stages"):
        figures.update(_per_corpus(spec, model, plan, labels))
    return _plain(figures)


def _config_options(config: Mapping[str, Any]) -> dict[str, Any]:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in config.items()}
