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
  them. Alternatively fixed vectors (the paper's frozen word2vec) are passed to the
  constructor as ``label_vectors``, ``(n_fine, E)`` or ``(n_fine + n_coarse, E)``, and a
  learned linear layer projects them to ``dim``. :func:`read_label_vectors` reads them from a
  local file (a ``.npy`` array or a GloVe / word2vec text file; nothing is downloaded), which
  the config names as ``label_vectors`` with its SHA-256.
* **ITRR, image-to-image relation reasoning.** Multi-head self-attention across the images of
  the batch: ``R_v = lambda * Q K^T`` (``lambda`` = 0.125 by default, not ``1 / sqrt(d)``),
  a softmax over the batch, relation-refined features ``X = LayerNorm(F + W_o R_v V)``, then
  the feed-forward sublayer ``LayerNorm(X + FFN(X))`` (the paper's eq. 7). The
  heads' mean softmax is returned as ``relation`` (B, B): each row sums to 1, and it is what
  the NNLDL loss searches for each image's k = 5 nearest neighbours in the batch.
* **HLRR, hierarchical label relation reasoning.** Self-attention over the label nodes with
  a structural bias: logits ``Q K^T / sqrt(d) + b(xi(i, j))``, where ``xi`` is the shortest
  path length between two labels on the tree root -> coarse -> fine (fine to its coarse
  parent 1, two coarse labels or two sibling fine labels 2, fine to another coarse label 3,
  fine to another coarse's fine label 4, 0 on the diagonal; see
  :func:`shortest_path_distances`) and ``b`` holds one learnable scalar per distinct ``xi``
  value, shared by the heads and started at 0. Refined labels: ``X = LayerNorm(L + W_o A V)``,
  then ``LayerNorm(X + FFN(X))`` (eq. 12).
* **LGIFO, label-guided image feature optimisation.** Cross-attention with queries from the
  (refined) image features and keys and values from the (refined) label features, fused
  back into the image features as ``X = LayerNorm(F + W_o A L)``, then
  ``LayerNorm(X + FFN(X))`` (eq. 17); a linear classifier over the fine labels gives
  ``logits``.

Where the paper is silent, or we chose:

* one layer each for ITRR, HLRR and LGIFO, as post-norm Transformer layers: the attention
  output is added to the block's input and normalised (``X``), then the feed-forward
  sublayer. The paper writes ``norm(X_MSA + FFN(X_MSA))`` with ``X_MSA`` the attention output
  and no skip from the block's input; we keep that skip. The FFN is
  ``W_2 ReLU(W_1 x)``, ``dim -> ffn * dim -> dim`` with ``ffn = 4`` (the Transformer's
  width; the paper gives none). The LGIFO values are the label features themselves (split
  across heads, no value projection), as the paper describes them.
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

import hashlib
import io
import math
import re
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
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
    label_vectors
        A local file of fixed label vectors (with ``label_encoder="fixed"``): a ``.npy``
        array, one row per fine label in the label order (optionally followed by one per
        coarse label), or a word-vector text file (GloVe or word2vec text format); see
        :func:`read_label_vectors`. Nothing is downloaded.
    label_vectors_sha256
        The SHA-256 of that file; filled in when the run is planned, and then checked
        whenever the file is read again.
    ffn
        The width of the feed-forward sublayer after each attention block, as a multiple of
        ``dim`` (0: no feed-forward sublayer).
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
    label_vectors: str | None = None
    label_vectors_sha256: str | None = None
    ffn: int = 4
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
        if isinstance(self.ffn, bool) or not isinstance(self.ffn, int) or self.ffn < 0:
            raise ConfigError(f"RALD's ffn must be a whole multiple of dim >= 0, not {self.ffn!r}")
        if self.label_vectors is not None and self.label_encoder != "fixed":
            raise ConfigError(
                'RALD: label_vectors names a file but label_encoder is "learned"; set label_encoder = "fixed"'
            )
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


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of a file, as hex.

    Raises
    ------
    ConfigError
        When the file cannot be read.
    """
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise ConfigError(f"cannot read label vector file {path}: {exc}") from exc
    return digest.hexdigest()


#: What separates the words of a label name ("happily_surprised", "very happy").
_WORD_SEPARATORS = re.compile(r"[\s_\-]+")


def label_words(name: str) -> list[str]:
    """The words of a label name, split at spaces, underscores and hyphens."""
    return [w for w in _WORD_SEPARATORS.split(name.strip()) if w]


def read_label_vectors(path: str | Path, names: Sequence[str], *, sha256: str | None = None) -> np.ndarray:
    """Fixed label vectors for the labels ``names`` (in their order) from a local file.

    Parameters
    ----------
    path
        A ``.npy`` array ``(len(names), E)`` (one row per fine label in the label order;
        ``(len(names) + n_coarse, E)`` also gives the coarse labels their own rows), or a
        word-vector text file in GloVe or word2vec text format: one word then its floats per
        line, separated by whitespace, word2vec's first line ``<count> <dim>`` skipped. A label
        of several words (split at spaces, ``_`` and ``-``) gets the mean of its words'
        vectors; a word is looked up as written, then in lower case.
    names
        The fine labels of the run.
    sha256
        When given, the file must have this SHA-256.

    Returns
    -------
    numpy.ndarray
        float32, one row per label (or per label node for a ``.npy`` of fine and coarse rows).

    Raises
    ------
    ConfigError
        When the file cannot be read or parsed, its digest differs from ``sha256``, a word of
        a label is missing (the error names it), or the vectors are not finite.
    """
    path = Path(path)
    digest = hashlib.sha256()
    if path.suffix == ".npy":
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read label vector file {path}: {exc}") from exc
        digest.update(raw)
        try:
            array = np.load(io.BytesIO(raw), allow_pickle=False)
        except (OSError, ValueError, EOFError) as exc:
            raise ConfigError(f"label vector file {path} is not a readable .npy array: {exc}") from exc
        if array.ndim != 2 or array.dtype.kind not in "fiu":
            raise ConfigError(
                f"label vector file {path} must hold a 2-D array of numbers (one row per label), "
                f"not {array.dtype} of shape {array.shape}"
            )
        vectors = array.astype(np.float32)
    else:
        vectors = _word_vectors(path, names, digest.update)
    if sha256 is not None and digest.hexdigest() != sha256:
        raise ConfigError(
            f"label vector file {path} has SHA-256 {digest.hexdigest()}, not the recorded {sha256}: "
            "the file changed since the run was made"
        )
    if not np.isfinite(vectors).all():
        raise ConfigError(f"label vector file {path} holds NaN or infinite values")
    return vectors


def _word_vectors(path: Path, names: Sequence[str], digest: Callable[[bytes], None]) -> np.ndarray:
    """The mean word vector of each label from a GloVe / word2vec text file (read once,
    each line passed to ``digest`` as it goes)."""
    words = {name: label_words(name) for name in names}
    empty = [name for name, w in words.items() if not w]
    if empty:
        raise ConfigError(f"labels {empty} have no word to look up in {path}")
    wanted = {v for w in words.values() for word in w for v in (word, word.lower())}
    found: dict[str, np.ndarray] = {}
    dim: int | None = None
    try:
        with open(path, "rb") as f:
            for number, line in enumerate(f, 1):
                digest(line)
                text = line.decode("utf-8", errors="replace")
                cells = text.split()
                if number == 1 and len(cells) == 2 and all(c.isdigit() for c in cells):
                    continue  # word2vec's header: <count> <dim>
                if not cells or cells[0] not in wanted or cells[0] in found:
                    continue
                try:
                    vector = np.asarray([float(c) for c in cells[1:]], dtype=np.float32)
                except ValueError as exc:
                    raise ConfigError(
                        f"{path}, line {number}: {cells[0]!r} is not followed by numbers"
                    ) from exc
                if dim is None:
                    dim = len(vector)
                if len(vector) != dim or not dim:
                    raise ConfigError(
                        f"{path}, line {number}: {cells[0]!r} has {len(vector)} values, not {dim}"
                    )
                found[cells[0]] = vector
    except OSError as exc:
        raise ConfigError(f"cannot read label vector file {path}: {exc}") from exc

    def lookup(word: str) -> np.ndarray | None:
        return found.get(word, found.get(word.lower()))

    missing = sorted(
        {f"{word!r} (label {name!r})" for name, w in words.items() for word in w if lookup(word) is None}
    )
    if missing:
        raise ConfigError(f"word vector file {path} has no vector for {', '.join(missing)}")
    rows = []
    for name in names:
        vectors = [lookup(word) for word in words[name]]
        rows.append(np.mean(np.stack([v for v in vectors if v is not None]), axis=0))
    return np.stack(rows).astype(np.float32)


def _heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    """``(N, dim) -> (heads, N, dim / heads)``."""
    return x.view(x.shape[0], heads, -1).transpose(0, 1)


def _merge(x: torch.Tensor) -> torch.Tensor:
    """``(heads, N, d) -> (N, heads * d)``."""
    return x.transpose(0, 1).reshape(x.shape[1], -1)


class FeedForward(nn.Module):
    """The sublayer after an attention block: ``LayerNorm(x + W_2 ReLU(W_1 x))``, with
    ``W_1`` of ``dim -> ratio * dim`` and ``W_2`` back to ``dim``; the identity for
    ``ratio = 0``."""

    def __init__(self, dim: int, ratio: int):
        super().__init__()
        self.net: nn.Sequential | None = (
            nn.Sequential(nn.Linear(dim, ratio * dim), nn.ReLU(), nn.Linear(ratio * dim, dim))
            if ratio
            else None
        )
        self.norm: nn.Module = nn.LayerNorm(dim) if ratio else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.net is None else self.norm(x + self.net(x))


class ImageRelation(nn.Module):
    """ITRR: multi-head self-attention across the batch with logits ``lam * Q K^T``, then the
    feed-forward sublayer."""

    def __init__(self, dim: int, heads: int, lam: float, refine: bool = True, ffn: int = 4):
        super().__init__()
        self.heads, self.lam, self.refine = heads, lam, refine
        self.q, self.k = nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.v, self.out = nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.norm = nn.LayerNorm(dim)
        self.ffn = FeedForward(dim, ffn if refine else 0)

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
        return self.ffn(self.norm(f + self.out(context))), relation


class LabelRelation(nn.Module):
    """HLRR: multi-head self-attention over label nodes, plus one learnable bias per distinct
    structural distance (none when ``distances`` is None), then the feed-forward sublayer."""

    xi_index: torch.Tensor
    xi_values: torch.Tensor

    def __init__(self, dim: int, heads: int, distances: torch.Tensor | None, ffn: int = 4):
        super().__init__()
        self.heads = heads
        self.scale = 1 / math.sqrt(dim // heads)
        self.q, self.k = nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.v, self.out = nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.norm = nn.LayerNorm(dim)
        self.ffn = FeedForward(dim, ffn)
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
        return self.ffn(self.norm(labels + self.out(context)))


class LabelGuidedFusion(nn.Module):
    """LGIFO: image queries attend to label keys; the values are the label features. Then
    the feed-forward sublayer."""

    def __init__(self, dim: int, heads: int, ffn: int = 4):
        super().__init__()
        self.heads = heads
        self.scale = 1 / math.sqrt(dim // heads)
        self.q, self.k, self.out = nn.Linear(dim, dim), nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.norm = nn.LayerNorm(dim)
        self.ffn = FeedForward(dim, ffn)

    def forward(self, images: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Fused features ``(B, dim)`` and the heads' mean attention over labels ``(B, N)``."""
        logits = self.scale * _heads(self.q(images), self.heads) @ _heads(self.k(labels), self.heads).mT
        attention = logits.softmax(-1)
        context = _merge(attention @ _heads(labels, self.heads))
        return self.ffn(self.norm(images + self.out(context))), attention.mean(0)


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
        self.itrr = ImageRelation(config.dim, config.heads, config.lam, refine=config.itrr, ffn=config.ffn)

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
                raise ConfigError(
                    'RALD: label_encoder "fixed" needs label_vectors ([model] label_vectors = "PATH")'
                )
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
            LabelRelation(config.dim, config.heads, distances, config.ffn)
            if config.hlrr and config.lgifo
            else None
        )
        self.lgifo: LabelGuidedFusion | None = (
            LabelGuidedFusion(config.dim, config.heads, config.ffn) if config.lgifo else None
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
