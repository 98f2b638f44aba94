"""The exception tree.

Every error emofeat raises on purpose derives from :class:`EmofeatError` and carries a
stable, machine-readable ``kind`` (recorded in the catalog for per-clip failures) and a
``stage`` (which step of the per-clip pipeline raised it). Messages say what happened and,
where possible, what to do next.
"""

from __future__ import annotations


class EmofeatError(Exception):
    """Base class of every error emofeat raises on purpose."""

    kind: str = "error"
    stage: str = "unknown"

    def __init__(self, message: str, *, kind: str | None = None, stage: str | None = None):
        super().__init__(message)
        if kind is not None:
            self.kind = kind
        if stage is not None:
            self.stage = stage

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""

    def __reduce__(self) -> tuple[object, ...]:
        # Errors cross process and Dask boundaries: keep kind and stage when pickled.
        return (_rebuild, (type(self), self.message, self.kind, self.stage))


def _rebuild(cls: type[EmofeatError], message: str, kind: str, stage: str) -> EmofeatError:
    return cls(message, kind=kind, stage=stage)


class ConfigError(EmofeatError):
    """A configuration file or value is invalid."""

    kind = "config_invalid"
    stage = "config"


class MediaError(EmofeatError):
    """A media file cannot be opened, probed or decoded."""

    kind = "media_error"
    stage = "decode"


class EmptyFileError(MediaError):
    """The file has zero bytes."""

    kind = "empty_file"


class UnreadableMediaError(MediaError):
    """The container cannot be opened (not a media file, unknown format, damaged header)."""

    kind = "unreadable"


class DecodeError(MediaError):
    """The container opened but its streams failed to decode (truncated or damaged data)."""

    kind = "decode_error"


class TooLargeError(MediaError):
    """A frame is larger than the configured limit; refused before anything is allocated."""

    kind = "too_large"


class ImplausibleHeaderError(MediaError):
    """A header declares sizes no real recording has (a sample rate, channel count, frame
    rate or duration): refused before decoding, so it cannot exhaust memory or time."""

    kind = "implausible_header"


class NoMediaStreamError(MediaError):
    """The file holds neither an audio nor a video stream."""

    kind = "no_streams"


class FaceModelError(EmofeatError):
    """A face-detector model cannot be found or loaded."""

    kind = "face_model"
    stage = "faces"


class FeatureError(EmofeatError):
    """A feature extractor failed on its input."""

    kind = "feature_error"
    stage = "features"


class ValidationError(EmofeatError):
    """A clip's extracted features failed a validation gate before commit."""

    kind = "validation_failed"
    stage = "validate"


class CorpusError(EmofeatError):
    """A corpus directory or adapter is unusable (missing root, unknown corpus name)."""

    kind = "corpus_error"
    stage = "plan"


class StoreError(EmofeatError):
    """The feature store cannot be opened, read or written."""

    kind = "store_error"
    stage = "store"


class NotFoundError(StoreError):
    """A clip, feature version, snapshot or corpus is not in the store."""

    kind = "not_found"
