"""``collate``: a batch from dataset items, padding variable-length series.

Tensors of one shape are stacked. A key whose tensors differ in length on axis 0 (a clip's
whole MFCC, its speech segments) is zero-padded to the longest (``*_times`` with NaN), and
the batch gains ``<key>_lengths`` (B,) int64 and, unless the item has its own,
``<key>_mask`` (B, T) bool. Numbers become tensors; strings stay lists. In a DataLoader
worker the batch is built in shared memory, so handing it over copies nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch.utils.data import get_worker_info


def collate(items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One batch of ``items`` (all from one dataset, so they share their keys).

    Raises
    ------
    ValueError
        When items have different keys, or tensors of a key differ beyond axis 0.
    """
    if not items:
        raise ValueError("collate needs at least one item")
    keys = list(items[0])
    if any(list(item) != keys for item in items[1:]):
        raise ValueError("items of one batch must have the same keys")
    out: dict[str, Any] = {}
    for key in keys:
        values = [item[key] for item in items]
        first = values[0]
        if isinstance(first, torch.Tensor):
            shapes = {v.shape for v in values}
            if len(shapes) == 1:
                out[key] = torch.stack(values, out=_batch_tensor(first, (len(values), *first.shape)))
                continue
            if len({v.shape[1:] for v in values}) != 1 or first.ndim == 0:
                raise ValueError(f"{key!r}: items differ beyond the first axis ({sorted(shapes)})")
            lengths = torch.tensor([len(v) for v in values], dtype=torch.int64)
            longest = int(lengths.max())
            fill = float("nan") if key.endswith("_times") and first.is_floating_point() else 0
            batch = _batch_tensor(first, (len(values), longest, *first.shape[1:])).fill_(fill)
            for i, v in enumerate(values):
                batch[i, : len(v)] = v
            out[key] = batch
            if key.endswith(("_times", "_mask")):  # padding of a mask is False: nothing to add
                continue
            out[key + "_lengths"] = lengths
            if key + "_mask" not in keys:
                out[key + "_mask"] = torch.arange(longest)[None, :] < lengths[:, None]
        elif isinstance(first, bool):
            out[key] = torch.tensor(values, dtype=torch.bool)
        elif isinstance(first, int):
            out[key] = torch.tensor(values, dtype=torch.int64)
        elif isinstance(first, float):
            out[key] = torch.tensor(values, dtype=torch.float64)
        else:
            out[key] = list(values)
    return out


def _batch_tensor(like: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    """An empty batch tensor; in a DataLoader worker, in shared memory already (as torch's
    default collate does), so sending the batch to the main process copies nothing."""
    if get_worker_info() is None:
        return torch.empty(shape, dtype=like.dtype)
    numel = 1
    for n in shape:
        numel *= n
    storage = like.untyped_storage()._new_shared(numel * like.element_size())
    return torch.empty(0, dtype=like.dtype).set_(storage).view(-1)[:numel].view(shape)
