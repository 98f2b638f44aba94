"""JDCDTL's staged schedule, driven by the loop: visual source -> visual target -> audio
source(s) -> joint, one :class:`~emofeat.train.loop.Trainer` per stage on the stage's
corpora, the same network throughout (the trunk carries over: that is the transfer).

In a stage every item goes through its own domain: its corpus's modality (faces for the two
visual corpora, log-mel segments for the audio ones) and that domain's head. The joint stage
trains every domain at once with cross-entropy plus the contrastive loss on pairs of items
of different domains (same emotion: pulled together; different: pushed past the margin).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from emofeat.train.jdcdtl import Jdcdtl, Stage
from emofeat.train.loop import Context, LossFn


class StageModel(nn.Module):
    """One stage of a :class:`Jdcdtl` as a model: ``forward(batch)`` routes each item to its
    corpus's modality and head and returns ``logits`` (B, C) and ``embedding`` (B, E)."""

    def __init__(self, model: Jdcdtl, stage: Stage):
        super().__init__()
        self.model, self.stage = model, stage
        self.domains = {head.partition("/")[0]: head for head in stage.heads}

    def forward(self, batch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        corpora = list(batch["corpus"])
        logits: torch.Tensor | None = None
        embedding: torch.Tensor | None = None
        device = batch["label"].device
        for corpus, head in self.domains.items():
            rows = [i for i, c in enumerate(corpora) if c == corpus]
            if not rows:
                continue
            modality = head.rpartition("/")[2]
            self.model.set_head(head, modality)
            index = torch.tensor(rows, device=device)
            if modality == "face":
                out = self.model.forward_modality(batch["face"][index], "face")
            else:
                out = self.model.forward_modality(
                    batch["logmel"][index], "audio", batch["logmel_mask"][index]
                )
            if logits is None or embedding is None:
                logits = out["logits"].new_zeros((len(corpora), out["logits"].shape[1]))
                embedding = out["embedding"].new_zeros((len(corpora), out["embedding"].shape[1]))
            logits = logits.index_copy(0, index, out["logits"])
            embedding = embedding.index_copy(0, index, out["embedding"])
        if logits is None or embedding is None:
            raise ValueError(f"no item of the batch belongs to a domain of stage {self.stage.name}")
        return {"logits": logits, "embedding": embedding}


def stage_loss(stage: Stage, margin: float) -> LossFn:
    """Cross-entropy, plus (joint stage) the contrastive loss on cross-domain pairs."""
    from emofeat.train.losses import contrastive_loss

    def loss(outputs: Mapping[str, torch.Tensor], batch: Mapping[str, Any], ctx: Context) -> torch.Tensor:
        target = batch["label"]
        total = nn.functional.cross_entropy(outputs["logits"].float(), target, ignore_index=-1)
        if "contrastive" not in stage.loss_terms or len(target) < 2:
            return total
        other = torch.roll(torch.arange(len(target), device=target.device), 1)
        corpora = list(batch["corpus"])
        across = torch.tensor(
            [corpora[i] != corpora[int(j)] for i, j in enumerate(other)], device=target.device
        )
        keep = across & (target >= 0) & (target[other] >= 0)
        if not keep.any():
            return total
        emb = outputs["embedding"].float()
        return total + contrastive_loss(
            emb[keep], emb[other][keep], (target == target[other])[keep], margin=margin
        )

    return loss
