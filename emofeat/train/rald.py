"""RALD: relation awareness and label disambiguation for fine-grained facial expression
recognition (Liu et al.; FG-Emotions with 33 fine and 6 coarse expressions, and the flat
7-class RAF-DB and AffectNet as "RALD-L").

The architecture, as this module builds it:

* **Image encoder.** A ResNet-18 (:mod:`emofeat.train.resnet`, trained from scratch) maps a
  112 px face to a pooled feature ``F`` of 512 values, linearly projected to ``dim`` when
  ``dim`` is not 512.
* **Label semantic encoder.** One vector per label node: the fine labels first, then the coarse
  ones. By default the fine vectors are learned (an embedding table) and a coarse label's
  vector is the mean of its fine labels' vectors, recomputed at every step so it follows
  them. Alternatively fixed vectors (for example word vectors shipped with an installed
  package; nothing is downloaded) are passed to the constructor as ``label_vectors``,
  ``(n_fine, E)`` or ``(n_fine + n_coarse, E)``, and a learned linear layer projects them to
  ``dim``.
* **ITRR, image-to-image relation reasoning.** Multi-head self-attention across the images of
  the batch: ``R_v = lambda * Q K^T`` (``lambda`` = 0.125 by default, not ``1 / sqrt(d)``),
  a softmax over the batch, and relation-refined features ``LayerNorm(F + W_o R_v V)``. The
  heads' mean softmax is returned as ``relation`` (B, B): each row sums to 1, and it is what
  the NNLDL loss searches for each image's k = 5 nearest neighbours in the batch.
* **HLRR, hierarchical label relation reasoning.** Self-attention over the label nodes with
  a structural bias: logits ``Q K^T / sqrt(d) + b(xi(i, j))``, where ``xi`` is the shortest
  path length between two labels on the tree root -> coarse -> fine (fine to its coarse
  parent 1, two coarse labels or two sibling fine labels 2, fine to another coarse label 3,
  fine to another coarse's fine label 4, 0 on the diagonal; see
  :func:`shortest_path_distances`) and ``b`` holds one learnable scalar per distinct ``xi``
  value, shared by the heads and started at 0. Refined labels: ``LayerNorm(L + W_o A V)``.
* **LGIFO, label-guided image feature optimisation.** Cross-attention with queries from the
  (refined) image features and keys and values from the (refined) label features, fused
  back into the image features as ``LayerNorm(F + W_o A L)``; a linear classifier over the
  fine labels gives ``logits``.

Where the paper is silent, or we chose:

* one layer each for ITRR, HLRR and LGIFO, residual connections with layer norm, no
  feed-forward sublayers; the LGIFO values are the label features themselves (split across
  heads, no value projection), as the paper describes them.
* ``relation`` keeps the diagonal (an image attends to itself, as in any self-attention);
  the NNLDL loss leaves an image out of its own neighbours. Images whose ``face_mask`` is
  False (no face: an all-zero picture) are never attended to (their columns are 0), unless
  no image of the batch has a face. The ResNet still encodes them (they are queries).
* ITRR is batch-dependent in evaluation too: predictions of one image depend on the other
  images of its batch, as in the paper.
* the tree is rooted, so every pair of labels is connected and ``sigma`` (500, the bucket of
  "not connected") only appears with ``root=False``, where fine labels of different coarse
  labels, and distinct coarse labels, are not connected.
* ``logits_coarse`` are not a second head: ``logits_coarse[c]`` is the log-sum-exp of the
  fine logits of ``c``'s children, so ``softmax(logits_coarse)`` is the summed fine
  probability of each coarse label and the two predictions never disagree.
* RALD-L (``hierarchy=None``): the label nodes are the fine labels only, HLRR runs without
  the structural bias and there is no ``logits_coarse``.
* faces: uint8 is divided by 255 (floating point faces are taken as already in [0, 1]),
  then standardised with the ImageNet channel means and standard deviations.

Outputs of :meth:`Rald.forward`: ``logits`` (B, n_fine), ``probs`` (B, n_fine, the
predicted distribution NNLDL disambiguates), ``relation`` (B, B), ``features`` (B, dim, the
fused features before the classifier), ``label_attention`` (B, n_nodes, without LGIFO: absent),
and with a hierarchy ``logits_coarse`` (B, n_coarse).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from emofeat.errors import ConfigError
from emofeat.train.faces import FaceNorm
from emofeat.train.resnet import resnet18


@dataclass(frozen=True)
class RaldConfig:
    """RALD's options (defaults: the paper's FG-Emotions setting when a hierarchy is given).

    Attributes
    ----------
    hierarchy
        The coarse label index of each fine label (length ``n_classes``); None for RALD-L.
    n_coarse
        The number of coarse labels (required with ``hierarchy``, None without).
    heads, dim
        Attention heads and the feature width of every attention block (``dim % heads == 0``).
    lam
        The ITRR scale ``lambda`` of ``Q K^T``.
    sigma
        The distance of labels that the tree does not connect (only with ``root=False``).
    label_encoder
        ``"learned"`` label embeddings or ``"fixed"`` vectors given to the model.
    root
        Whether the coarse labels hang from a common root (the paper's tree).
    itrr, hlrr, structural_bias, lgifo
        Ablation switches: without ``itrr`` ``relation`` is still computed (from the same
        attention) but the features are not refined; without ``hlrr`` the label features
        enter LGIFO as encoded; without ``structural_bias`` HLRR is plain self-attention;
        without ``lgifo`` the classifier sees the image features alone.
    dropout
        Dropout before the classifier.
    """

    hierarchy: tuple[int, ...] | None = None
    n_coarse: int | None = None
    heads: int = 8
    dim: int = 512
    lam: float = 0.125
    sigma: float = 500.0
    label_encoder: Literal["learned", "fixed"] = "learned"
    root: bool = True
    itrr: bool = True
    hlrr: bool = True
    structural_bias: bool = True
    lgifo: bool = True
    dropout: float = 0.0

    def __post_init__(self) -> None:
        if self.hierarchy is not None:
            object.__setattr__(self, "hierarchy", tuple(int(c) for c in self.hierarchy))
        if self.heads < 1 or self.dim < 1 or self.dim % self.heads:
            raise ConfigError(
                f"RALD needs dim divisible by heads >= 1, not dim={self.dim} heads={self.heads}"
            )
        if not self.lam > 0 or not self.sigma > 0:
            raise ConfigError("RALD needs lam > 0 and sigma > 0")
        if self.label_encoder not in ("learned", "fixed"):
            raise ConfigError(f"RALD's label_encoder must be learned or fixed, not {self.label_encoder!r}")
        if not 0 <= self.dropout < 1:
            raise ConfigError(f"RALD's dropout must be in [0, 1), not {self.dropout}")
        if self.hierarchy is None:
            if self.n_coarse is not None:
                raise ConfigError("RALD: n_coarse is given without a hierarchy")
            return
        if self.n_coarse is None or self.n_coarse < 1:
            raise ConfigError("RALD: a hierarchy needs n_coarse >= 1")
        _check_hierarchy(self.hierarchy, self.n_coarse)

    @property
    def n_nodes_coarse(self) -> int:
        """Coarse label nodes (0 for RALD-L)."""
        return self.n_coarse or 0


def _check_hierarchy(hierarchy: Sequence[int], n_coarse: int) -> None:
    if not hierarchy:
        raise ConfigError("RALD: the hierarchy is empty")
    bad = [c for c in hierarchy if not 0 <= c < n_coarse]
    if bad:
        raise ConfigError(f"RALD: coarse indices {sorted(set(bad))} are outside [0, {n_coarse})")
    childless = sorted(set(range(n_coarse)) - set(hierarchy))
    if childless:
        raise ConfigError(f"RALD: coarse labels {childless} have no fine label")


def shortest_path_distances(
    hierarchy: Sequence[int], n_coarse: int, *, root: bool = True, sigma: float = 500.0
) -> torch.Tensor:
    """Shortest path lengths between label nodes on the label tree.

    Parameters
    ----------
    hierarchy
        The coarse index of each fine label.
    n_coarse
        The number of coarse labels.
    root
        Whether a root node joins the coarse labels (root -> coarse -> fine); the root is
        not a label node.
    sigma
        The value of pairs that no path joins.

    Returns
    -------
    torch.Tensor
        ``(n_fine + n_coarse, n_fine + n_coarse)`` float32: fine labels first, then coarse
        labels; 0 on the diagonal.

    Raises
    ------
    ConfigError
        When an index is outside ``[0, n_coarse)`` or a coarse label has no fine label.
    """
    _check_hierarchy(hierarchy, n_coarse)
    n_fine = len(hierarchy)
    n = n_fine + n_coarse
    adjacency: list[list[int]] = [[] for _ in range(n + 1)]  # node n is the root
    for fine, coarse in enumerate(hierarchy):
        adjacency[fine].append(n_fine + coarse)
        adjacency[n_fine + coarse].append(fine)
    if root:
        for coarse in range(n_coarse):
            adjacency[n].append(n_fine + coarse)
            adjacency[n_fine + coarse].append(n)
    out = torch.full((n, n), float(sigma), dtype=torch.float32)
    for start in range(n):
        seen = {start: 0}
        queue = deque([start])
        while queue:
            node = queue.popleft()
            for nxt in adjacency[node]:
                if nxt not in seen:
                    seen[nxt] = seen[node] + 1
                    queue.append(nxt)
        for node, dist in seen.items():
            if node < n:
                out[start, node] = float(dist)
    return out


def _heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    """``(N, dim) -> (heads, N, dim / heads)``."""
    return x.view(x.shape[0], heads, -1).transpose(0, 1)


def _merge(x: torch.Tensor) -> torch.Tensor:
    """``(heads, N, d) -> (N, heads * d)``."""
    return x.transpose(0, 1).reshape(x.shape[1], -1)


class ImageRelation(nn.Module):
    """ITRR: multi-head self-attention across the batch with logits ``lam * Q K^T``."""

    def __init__(self, dim: int, heads: int, lam: float, refine: bool = True):
        super().__init__()
        self.heads, self.lam, self.refine = heads, lam, refine
        self.q, self.k = nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.v, self.out = nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.norm = nn.LayerNorm(dim)

    def forward(self, f: torch.Tensor, valid: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Refined features ``(B, dim)`` and the relation ``(B, B)`` (rows sum to 1)."""
        logits = self.lam * _heads(self.q(f), self.heads) @ _heads(self.k(f), self.heads).transpose(1, 2)
        if valid is not None and bool(valid.any()):
            logits = logits.masked_fill(~valid[None, None, :], float("-inf"))
        attention = logits.softmax(-1)
        relation = attention.mean(0)
        if not self.refine:
            return f, relation
        context = _merge(attention @ _heads(self.v(f), self.heads))
        return self.norm(f + self.out(context)), relation


class LabelRelation(nn.Module):
    """HLRR: multi-head self-attention over label nodes, plus one learnable bias per distinct
    structural distance (none when ``distances`` is None)."""

    xi_index: torch.Tensor
    xi_values: torch.Tensor

    def __init__(self, dim: int, heads: int, distances: torch.Tensor | None):
        super().__init__()
        self.heads = heads
        self.scale = 1 / math.sqrt(dim // heads)
        self.q, self.k = nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.v, self.out = nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.norm = nn.LayerNorm(dim)
        self.xi_bias: nn.Parameter | None = None
        if distances is not None:
            values, index = torch.unique(distances, return_inverse=True)
            self.register_buffer("xi_values", values, persistent=False)
            self.register_buffer("xi_index", index, persistent=False)
            self.xi_bias = nn.Parameter(torch.zeros(len(values)))

    def bias(self) -> torch.Tensor | None:
        """The structural bias ``b(xi(i, j))`` (n_nodes, n_nodes), or None."""
        return None if self.xi_bias is None else self.xi_bias[self.xi_index]

    def forward(self, labels: torch.Tensor) -> torch.Tensor:
        logits = self.scale * _heads(self.q(labels), self.heads) @ _heads(self.k(labels), self.heads).mT
        bias = self.bias()
        if bias is not None:
            logits = logits + bias
        context = _merge(logits.softmax(-1) @ _heads(self.v(labels), self.heads))
        return self.norm(labels + self.out(context))


class LabelGuidedFusion(nn.Module):
    """LGIFO: image queries attend to label keys; the values are the label features."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.scale = 1 / math.sqrt(dim // heads)
        self.q, self.k, self.out = nn.Linear(dim, dim), nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.norm = nn.LayerNorm(dim)

    def forward(self, images: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Fused features ``(B, dim)`` and the heads' mean attention over labels ``(B, N)``."""
        logits = self.scale * _heads(self.q(images), self.heads) @ _heads(self.k(labels), self.heads).mT
        attention = logits.softmax(-1)
        context = _merge(attention @ _heads(labels, self.heads))
        return self.norm(images + self.out(context)), attention.mean(0)


class Rald(nn.Module):
    """RALD (with a hierarchy) or RALD-L (without): see the module docstring.

    Parameters
    ----------
    config
        The options.
    n_classes
        The number of fine labels (``len(config.hierarchy)`` when given).
    label_vectors
        Fixed label vectors ``(n_fine, E)`` or ``(n_fine + n_coarse, E)``, required by and
        only allowed with ``label_encoder="fixed"``.

    Raises
    ------
    ConfigError
        When the hierarchy does not match ``n_classes`` or the label vectors do not match
        the label encoder or the label counts.
    """

    label_vectors: torch.Tensor
    coarse_of: torch.Tensor
    coarse_mean: torch.Tensor

    def __init__(self, config: RaldConfig, n_classes: int, label_vectors: torch.Tensor | None = None):
        super().__init__()
        if n_classes < 1:
            raise ConfigError(f"RALD needs n_classes >= 1, not {n_classes}")
        if config.hierarchy is not None and len(config.hierarchy) != n_classes:
            raise ConfigError(
                f"RALD: the hierarchy has {len(config.hierarchy)} fine labels but n_classes is {n_classes}"
            )
        self.config, self.n_classes = config, n_classes
        n_coarse = config.n_nodes_coarse
        self.faces = FaceNorm()
        self.encoder = resnet18()
        self.project: nn.Module = (
            nn.Identity()
            if config.dim == self.encoder.features
            else nn.Linear(self.encoder.features, config.dim)
        )
        self.itrr = ImageRelation(config.dim, config.heads, config.lam, refine=config.itrr)

        # Label nodes: fine then coarse. coarse_mean (n_coarse, n_fine) averages fine vectors.
        if config.hierarchy is not None:
            coarse_of = torch.tensor(config.hierarchy, dtype=torch.int64)
            onehot = nn.functional.one_hot(coarse_of, n_coarse).T.float()
            self.register_buffer("coarse_of", coarse_of, persistent=False)
            self.register_buffer("coarse_mean", onehot / onehot.sum(1, keepdim=True), persistent=False)
        self.embedding: nn.Embedding | None = None
        self.label_project: nn.Module = nn.Identity()
        if config.label_encoder == "learned":
            if label_vectors is not None:
                raise ConfigError('RALD: label_vectors are given but label_encoder is "learned"')
            self.embedding = nn.Embedding(n_classes, config.dim)
        else:
            if label_vectors is None:
                raise ConfigError('RALD: label_encoder "fixed" needs label_vectors')
            if label_vectors.ndim != 2 or len(label_vectors) not in (n_classes, n_classes + n_coarse):
                raise ConfigError(
                    f"RALD: label_vectors must be ({n_classes}, E) or ({n_classes + n_coarse}, E), "
                    f"not {tuple(label_vectors.shape)}"
                )
            self.register_buffer("label_vectors", label_vectors.detach().float().clone())
            self.label_project = nn.Linear(label_vectors.shape[1], config.dim)

        distances = None
        if config.hierarchy is not None and config.structural_bias:
            distances = shortest_path_distances(
                config.hierarchy, n_coarse, root=config.root, sigma=config.sigma
            )
        self.hlrr: LabelRelation | None = (
            LabelRelation(config.dim, config.heads, distances) if config.hlrr and config.lgifo else None
        )
        self.lgifo: LabelGuidedFusion | None = (
            LabelGuidedFusion(config.dim, config.heads) if config.lgifo else None
        )
        self.dropout = nn.Dropout(config.dropout)
        self.classifier = nn.Linear(config.dim, n_classes)

    def label_features(self) -> torch.Tensor:
        """The encoded label nodes ``(n_fine + n_coarse, dim)`` before HLRR."""
        if self.embedding is not None:
            fine = self.embedding.weight
        else:
            fine = self.label_vectors
            if len(fine) > self.n_classes:  # fine and coarse vectors given
                return self.label_project(fine)
        if self.config.hierarchy is not None:
            fine = torch.cat([fine, self.coarse_mean @ fine])
        return self.label_project(fine)

    def coarse_logits(self, logits: torch.Tensor) -> torch.Tensor:
        """Per coarse label, the log-sum-exp of its fine labels' logits ``(B, n_coarse)``."""
        groups = torch.full(
            (logits.shape[0], self.config.n_nodes_coarse, self.n_classes),
            float("-inf"),
            dtype=logits.dtype,
            device=logits.device,
        )
        index = self.coarse_of.view(1, 1, -1).expand(logits.shape[0], 1, -1)
        groups = groups.scatter(1, index, logits.unsqueeze(1))
        return torch.logsumexp(groups, dim=-1)

    def forward(self, batch: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Predict from ``batch["face"]`` (B, 3, H, W) and ``batch["face_mask"]`` (B,), optional.

        Returns
        -------
        dict[str, torch.Tensor]
            ``logits``, ``probs``, ``relation``, ``features``, with LGIFO ``label_attention``
            and with a hierarchy ``logits_coarse``.
        """
        face = batch["face"]
        if face.ndim != 4 or face.shape[1] != 3:
            raise ValueError(f"RALD expects faces (B, 3, H, W), not {tuple(face.shape)}")
        valid = batch.get("face_mask")
        features = self.project(self.encoder(self.faces(face)))
        features, relation = self.itrr(features, None if valid is None else valid.bool())
        out: dict[str, torch.Tensor] = {"relation": relation}
        if self.lgifo is not None:
            labels = self.label_features()
            if self.hlrr is not None:
                labels = self.hlrr(labels)
            features, out["label_attention"] = self.lgifo(features, labels)
        logits = self.classifier(self.dropout(features))
        out.update(logits=logits, probs=logits.softmax(-1), features=features)
        if self.config.hierarchy is not None:
            out["logits_coarse"] = self.coarse_logits(logits)
        return out
