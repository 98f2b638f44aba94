"""The corpus adapter interface and its registry.

An adapter turns a corpus directory into a :class:`Manifest`: one :class:`ClipRecord` per
clip it understands, and one :class:`SkippedFile` (with a reason) per file it does not, so
every file under the root is accounted for. Adapters never open media files: a manifest is
cheap to build and lets a data engineer check a corpus before the heavy run.
"""

from __future__ import annotations

import dataclasses
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import ClassVar, TypeVar

from emofeat.corpora.tracks import LabelTrack
from emofeat.corpora.vocabulary import check_mapping
from emofeat.errors import CorpusError


@dataclass(frozen=True)
class ClipRecord:
    """One clip of a corpus, as its adapter reads it from names and side files.

    ``clip_id`` is ``"<corpus>/<source>"``: deterministic, readable and unique across
    corpora. ``source`` is the POSIX path relative to the corpus root (a directory for an
    image sequence). ``sex`` is ``"male"``, ``"female"`` or ``None`` where the corpus does not
    say. ``label`` is the corpus's native emotion name (``None`` when unlabeled); ``meta``
    holds the other codes the corpus carries (modality, intensity, ...), as strings.
    ``split`` is the corpus's official partition (``train``, ``validation``, ``test``) where
    it has one; ``tracks`` are its time-varying labels.

    A clip may draw its modalities from two files of one recording: ``audio_source`` names
    the file its audio comes from when that is not ``source`` (RECOLA's session wav beside
    its mp4, CREMA-D's AudioWAV beside its flv); ``source`` then gives only the video. Both
    files are on the recording's clock (each file's earliest stream start is 0).

    ``person`` names which of several annotated people the clip follows (``"left"`` or
    ``"right"`` of the frame for Aff-Wild2's two-person videos; ``None`` where the corpus
    has one person per clip): its face track follows the face on that side, and its id is
    ``"<corpus>/<source>#<person>"``.
    """

    clip_id: str
    corpus: str
    source: str
    subject: str | None = None
    sex: str | None = None
    label: str | None = None
    meta: dict[str, str] = field(default_factory=dict)
    split: str | None = None
    tracks: tuple[LabelTrack, ...] = ()
    audio_source: str | None = None
    person: str | None = None


#: The people a clip can follow in a frame showing several (:attr:`ClipRecord.person`).
PERSONS = ("left", "right")


def clip_id_of(corpus: str, source: str, person: str | None = None) -> str:
    """A clip's id: ``"<corpus>/<source>"``, with ``"#<person>"`` for one of several people."""
    return f"{corpus}/{source}" if person is None else f"{corpus}/{source}#{person}"


@dataclass(frozen=True)
class SkippedFile:
    """A file under the corpus root that is not a clip, and why."""

    source: str
    reason: str


@dataclass(frozen=True)
class Manifest:
    """What an adapter found under a corpus root."""

    corpus: str
    root: Path
    clips: tuple[ClipRecord, ...]
    skipped: tuple[SkippedFile, ...]


def named(manifest: Manifest, name: str) -> Manifest:
    """The manifest with its corpus called ``name`` in the store: clip ids ``<name>/<source>``.

    Raises
    ------
    CorpusError
        When ``name`` is not a valid corpus name (letters, digits, ``-``, ``_``, ``.``).
    """
    if not name or not all(ch.isalnum() or ch in "-_." for ch in name) or name.startswith("."):
        raise CorpusError(
            f"corpus name {name!r} is not valid: use letters, digits, '-', '_' or '.' (for --name)",
            kind="bad_name",
        )
    if name == manifest.corpus:
        return manifest
    clips = tuple(
        dataclasses.replace(c, clip_id=clip_id_of(name, c.source, c.person), corpus=name)
        for c in manifest.clips
    )
    return Manifest(corpus=name, root=manifest.root, clips=clips, skipped=manifest.skipped)


class CorpusAdapter(ABC):
    """Base class of every corpus adapter; subclasses register with :func:`register`."""

    #: Registry name, e.g. ``"ravdess"``.
    name: ClassVar[str]
    #: The native label set, in the corpus's own order.
    labels: ClassVar[tuple[str, ...]]
    #: One line on the expected on-disk layout (the module docstring has the details).
    layout: ClassVar[str]
    #: Native label -> unified label (see :mod:`emofeat.corpora.vocabulary`), as data.
    unified: ClassVar[Mapping[str, str | None]] = {}
    #: The licence users must accept, in one line.
    licence: ClassVar[str] = ""

    def clip(
        self,
        source: str,
        *,
        subject: str | None = None,
        sex: str | None = None,
        label: str | None = None,
        meta: dict[str, str] | None = None,
        split: str | None = None,
        tracks: tuple[LabelTrack, ...] = (),
        audio_source: str | None = None,
        person: str | None = None,
    ) -> ClipRecord:
        """Build a record for ``source`` (relative POSIX path) with this adapter's corpus name.

        Raises
        ------
        CorpusError
            When ``person`` is not one of :data:`PERSONS`.
        """
        if person is not None and person not in PERSONS:
            raise CorpusError(f"person must be one of {PERSONS}, not {person!r}")
        return ClipRecord(
            clip_id=clip_id_of(self.name, source, person),
            corpus=self.name,
            source=source,
            subject=subject,
            sex=sex,
            label=label,
            meta=meta or {},
            split=split,
            tracks=tracks,
            audio_source=audio_source,
            person=person,
        )

    def unified_label(self, native: str | None) -> str | None:
        """The unified label of a native one (``None`` when unlabeled or unmappable)."""
        return None if native is None else self.unified.get(native)

    @abstractmethod
    def scan(self, root: Path) -> Manifest:
        """List the clips under ``root`` without opening any media file.

        Raises
        ------
        CorpusError
            When ``root`` is not a readable directory.
        """


_REGISTRY: dict[str, type[CorpusAdapter]] = {}

A = TypeVar("A", bound=type[CorpusAdapter])


def register(cls: A) -> A:
    """Class decorator: make an adapter available by its ``name``.

    Raises
    ------
    CorpusError
        When the name is taken or the adapter's unified mapping misses a native label.
    """
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise CorpusError(f"two corpus adapters are named {cls.name!r}")
    try:
        check_mapping(cls.name, cls.labels, cls.unified)
    except ValueError as exc:
        raise CorpusError(str(exc)) from exc
    _REGISTRY[cls.name] = cls
    return cls


def get_adapter(name: str) -> CorpusAdapter:
    """An instance of the adapter registered as ``name``.

    Raises
    ------
    CorpusError
        When no adapter has that name (the message lists the known ones).
    """
    try:
        return _REGISTRY[name]()
    except KeyError:
        raise CorpusError(
            f"unknown corpus {name!r}; known corpora: {', '.join(sorted(_REGISTRY))}", kind="unknown_corpus"
        ) from None


def adapter_names() -> list[str]:
    """Names of every registered adapter, sorted."""
    return sorted(_REGISTRY)


def check_root(root: Path) -> Path:
    """Resolve a corpus root, raising :class:`CorpusError` unless it is a readable directory."""
    if not root.is_dir():
        raise CorpusError(f"corpus root {str(root)!r} is not a directory", kind="missing_root")
    if not os.access(root, os.R_OK | os.X_OK):
        raise CorpusError(f"corpus root {str(root)!r} is not readable", kind="unreadable_root")
    return root.resolve()


def walk_files(root: Path) -> Iterator[str]:
    """Every regular file under ``root`` as a sorted relative POSIX path (hidden files
    included). Symbolic links are neither listed nor followed (:func:`scan_corpus` reports
    them)."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        base = Path(dirpath)
        for name in sorted(filenames):
            if not (base / name).is_symlink():
                yield (base / name).relative_to(root).as_posix()


def regular_file(path: Path) -> bool:
    """Whether ``path`` is a regular file and not a symbolic link (side files an adapter
    reads by a fixed name are read only then)."""
    return path.is_file() and not path.is_symlink()


def links(root: Path) -> list[str]:
    """Every symbolic link under ``root`` (to a file or a directory; none is followed), as
    sorted relative POSIX paths."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        base = Path(dirpath)
        entries = [base / n for n in dirnames + filenames]
        found += [e.relative_to(root).as_posix() for e in entries if e.is_symlink()]
    return sorted(found)


def escapes(root: Path, source: str) -> str | None:
    """Why the relative path ``source`` is not a file inside ``root`` that emofeat may open
    (``None`` when it is): absolute, climbing with ``..``, through a symbolic link, or
    resolving outside ``root``."""
    parts = PurePosixPath(source).parts
    if PurePosixPath(source).is_absolute() or ".." in parts or not parts:
        return "names a path outside the corpus root: not read"
    here = root
    for part in parts:
        here = here / part
        if here.is_symlink():
            link = here.relative_to(root).as_posix()
            return f"goes through the symbolic link {link}: links are not followed"
    if not here.resolve().is_relative_to(root.resolve()):
        return "resolves outside the corpus root: not read"
    return None


def scan_corpus(adapter: CorpusAdapter, root: Path) -> Manifest:
    """``adapter.scan(root)``, with nothing outside the root: a clip whose source (or audio
    source) an annotation file names outside the root, or reaches through a symbolic link,
    becomes a skipped file with the reason, and every symbolic link under the root is
    reported as skipped (links are never followed, so a corpus cannot make emofeat read
    ``/etc/passwd`` or another corpus's files).

    Raises
    ------
    CorpusError
        As the adapter's ``scan``.
    """
    manifest = adapter.scan(root)
    base = manifest.root
    clips: list[ClipRecord] = []
    skipped = list(manifest.skipped)
    for clip in manifest.clips:
        why = next(
            (w for s in (clip.source, clip.audio_source) if s is not None and (w := escapes(base, s))), None
        )
        if why is None:
            clips.append(clip)
        else:
            skipped.append(SkippedFile(clip.source, f"the clip's file {why}"))
    named_already = {s.source for s in skipped}
    for link in links(base):
        if link not in named_already:
            target = os.readlink(base / link)
            skipped.append(SkippedFile(link, f"a symbolic link (to {target}): links are not followed"))
    return Manifest(manifest.corpus, manifest.root, tuple(clips), tuple(skipped))


def build_manifest(
    adapter: CorpusAdapter, root: Path, classify: Callable[[str], ClipRecord | SkippedFile]
) -> Manifest:
    """Run ``classify`` over every file under ``root`` and gather clips and skips."""
    clips: list[ClipRecord] = []
    skipped: list[SkippedFile] = []
    for source in walk_files(root):
        item = classify(source)
        if isinstance(item, ClipRecord):
            clips.append(item)
        else:
            skipped.append(item)
    return Manifest(adapter.name, root, tuple(clips), tuple(skipped))
