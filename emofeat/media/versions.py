"""The versions of the FFmpeg libraries that decode every file (the ones PyAV was built with)."""

from __future__ import annotations

import av


def ffmpeg_versions() -> dict[str, str]:
    """FFmpeg's release and each of its libraries' versions, as PyAV reports them.

    Returns
    -------
    dict
        ``{"version": "8.1.2", "libavcodec": "62.28.102", "libavformat": ..., ...}``: the
        FFmpeg release PyAV's wheel bundles (or the system's, for a source build) and the
        ``major.minor.micro`` version of each library it loaded.
    """
    out = {"version": str(av.ffmpeg_version_info)}
    for name, version in sorted(av.library_versions.items()):
        out[str(name)] = ".".join(str(part) for part in version)
    return out
