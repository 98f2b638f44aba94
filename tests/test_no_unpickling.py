"""Nothing that emofeat reads from a store, a checkpoint or a file is unpickled.

Only the worker pipes between emofeat's own processes carry pickles (emofeat/pipeline/workers.py).
A store holds Zarr v3 arrays (no pickle codec exists there), a checkpoint is read with
``torch.load(..., weights_only=True)`` and arrays with ``numpy.load(..., allow_pickle=False)``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "emofeat"
PIPES = {"pipeline/workers.py"}  # the driver <-> worker protocol: emofeat's own processes


def calls(path: Path) -> list[ast.Call]:
    return [n for n in ast.walk(ast.parse(path.read_text(), filename=str(path))) if isinstance(n, ast.Call)]


def name_of(call: ast.Call) -> str:
    func = call.func
    parts = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
    return ".".join(reversed(parts))


def keyword(call: ast.Call, name: str) -> object:
    for k in call.keywords:
        if k.arg == name and isinstance(k.value, ast.Constant):
            return k.value.value
    return None


SOURCES = sorted(p for p in ROOT.rglob("*.py") if p.relative_to(ROOT).as_posix() not in PIPES)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_file_is_unpickled(path: Path) -> None:
    for call in calls(path):
        name = name_of(call)
        where = f"{path.relative_to(ROOT)}:{call.lineno}"
        assert not name.startswith(("pickle.", "cloudpickle.", "dill.", "joblib.load")), where
        if name in ("torch.load",):
            assert keyword(call, "weights_only") is True, where
        if name in ("np.load", "numpy.load"):
            assert keyword(call, "allow_pickle") is False, where


def test_the_check_sees_an_unsafe_load(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import torch, numpy as np\ntorch.load('x')\nnp.load('y', allow_pickle=True)\n")
    found = {name_of(c): (keyword(c, "weights_only"), keyword(c, "allow_pickle")) for c in calls(bad)}
    assert found["torch.load"] == (None, None)
    assert found["np.load"] == (None, True)
