"""Which file names are media, by suffix alone (no I/O)."""

from __future__ import annotations

from pathlib import Path

#: Still-image suffixes (lower case, with the dot). Such a file is a one-frame video.
IMAGE_SUFFIXES: frozenset[str] = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"})

#: Audio container suffixes.
AUDIO_SUFFIXES: frozenset[str] = frozenset(
    {
        ".wav",
        ".flac",
        ".mp3",
        ".m4a",
        ".aac",
        ".ac3",
        ".ogg",
        ".oga",
        ".opus",
        ".wma",
        ".aif",
        ".aiff",
        ".mka",
    }
)

#: Video container suffixes.
VIDEO_SUFFIXES: frozenset[str] = frozenset(
    {".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".flv", ".3gp", ".ts", ".mts"}
    | {".ogv", ".gif"}
)

#: Every suffix :func:`is_media_file` accepts: audio, video and image.
MEDIA_SUFFIXES: frozenset[str] = AUDIO_SUFFIXES | VIDEO_SUFFIXES | IMAGE_SUFFIXES


def is_media_file(path: Path) -> bool:
    """Whether ``path`` names a media file, judged by its suffix only (case-insensitive).

    Parameters
    ----------
    path : pathlib.Path
        Any path; it need not exist.

    Returns
    -------
    bool
        True when the suffix is in :data:`MEDIA_SUFFIXES`. Hidden files (``.name``) are never
        media (macOS ``._clip.mp4`` resource forks).

    Raises
    ------
    Nothing.
    """
    p = Path(path)
    return not p.name.startswith(".") and p.suffix.lower() in MEDIA_SUFFIXES


def is_image_file(path: Path) -> bool:
    """Whether ``path`` names a still image, by suffix (see :data:`IMAGE_SUFFIXES`).

    Raises
    ------
    Nothing.
    """
    p = Path(path)
    return not p.name.startswith(".") and p.suffix.lower() in IMAGE_SUFFIXES
