"""JDCDTL: one trunk for faces and log-mel segments, per-domain heads, the staged plan."""

from __future__ import annotations

import pytest
import torch

from emofeat.errors import ConfigError
from emofeat.train.jdcdtl import STAGES, Jdcdtl, JdcdtlConfig, stage_plan, standardize_segments

CORPORA = ("enterface", "savee", "emodb")


def batch(n: int = 4, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {
        "face": torch.randint(0, 256, (n, 3, 64, 64), generator=g, dtype=torch.uint8),
        "face_mask": torch.ones(n, dtype=torch.bool),
        "logmel": torch.randn(n, 3, 64, 64, generator=g) * 5 - 20,
        "logmel_mask": torch.ones(n, 64, dtype=torch.bool),
    }


def small(**kwargs: object) -> JdcdtlConfig:
    options: dict[str, object] = {"channels": (4, 8, 8, 16), "embedding": 12}
    options.update(kwargs)
    return JdcdtlConfig(**options)  # type: ignore[arg-type]


@pytest.mark.parametrize("modality", ["face", "audio"])
def test_forward_backward_both_modalities(modality: str) -> None:
    torch.manual_seed(0)
    model = Jdcdtl(small(modality=modality), 6)
    out = model(batch())
    assert out["logits"].shape == (4, 6)
    assert out["embedding"].shape == (4, 12)
    out["logits"].sum().backward()
    first = next(model.trunk.parameters())
    assert first.grad is not None
    assert torch.count_nonzero(first.grad) > 0


def test_default_embedding_is_128_and_not_normalised() -> None:
    torch.manual_seed(0)
    out = Jdcdtl(JdcdtlConfig(), 6).eval()(batch())
    assert out["embedding"].shape == (4, 128)
    assert not torch.allclose(out["embedding"].norm(dim=-1), torch.ones(4))
    normed = Jdcdtl(JdcdtlConfig(normalize_embedding=True), 6).eval()(batch())
    torch.testing.assert_close(normed["embedding"].norm(dim=-1), torch.ones(4))


def test_forward_reads_the_selected_modality() -> None:
    torch.manual_seed(0)
    model = Jdcdtl(small(dropout=0.0), 6).eval()
    b = batch()
    with torch.no_grad():
        face = model(b)["logits"]
        torch.testing.assert_close(face, model.forward_modality(b["face"], "face")["logits"])
        model.modality = "audio"
        audio = model(b)["logits"]
        torch.testing.assert_close(
            audio, model.forward_modality(b["logmel"], "audio", b["logmel_mask"])["logits"]
        )
    assert not torch.allclose(face, audio)


def test_segments_are_standardised_over_valid_frames() -> None:
    x = torch.randn(2, 3, 8, 10) * 4 + 7
    mask = torch.ones(2, 10, dtype=torch.bool)
    mask[1, 6:] = False
    out = standardize_segments(x, mask)
    valid = out[1, :, :, :6]
    torch.testing.assert_close(valid.mean((1, 2)), torch.zeros(3), atol=1e-5, rtol=0)
    torch.testing.assert_close(valid.std((1, 2), unbiased=False), torch.ones(3), atol=1e-3, rtol=0)
    assert torch.equal(out[1, :, :, 6:], torch.zeros(3, 8, 4))
    # Padded frames do not move the statistics of the valid ones.
    changed = x.clone()
    changed[1, :, :, 6:] = 1e4
    torch.testing.assert_close(standardize_segments(changed, mask), out)


def test_padded_logmel_frames_do_not_change_the_audio_prediction() -> None:
    torch.manual_seed(0)
    model = Jdcdtl(small(modality="audio"), 6).eval()
    b = batch()
    b["logmel_mask"][:, 40:] = False
    other = {k: v.clone() for k, v in b.items()}
    other["logmel"][:, :, :, 40:] = 1e3
    with torch.no_grad():
        torch.testing.assert_close(model(b)["logits"], model(other)["logits"])


def test_add_head_and_stage_switching_select_the_logits() -> None:
    torch.manual_seed(0)
    model = Jdcdtl(small(corpora=CORPORA), 6).eval()
    assert list(model.heads) == ["enterface/face", "savee/face", "emodb/audio"]
    assert (model.stage, model.active, model.modality) == ("visual_source", "enterface/face", "face")
    b = batch()
    with torch.no_grad():
        source = model(b)["logits"]
        model.set_stage("visual_target")
        target = model(b)["logits"]
        model.set_stage("audio_source")
        assert model.modality == "audio"
        speech = model(b)["logits"]
        # The same input through another head: same embedding, other logits.
        model.set_stage("visual_target")
        torch.testing.assert_close(model(b)["logits"], target)
    assert not torch.allclose(source, target)
    assert not torch.allclose(target, speech)

    model.add_head("savee/face", 7, replace=True)
    model.set_stage("joint", "savee/face")
    assert model(b)["logits"].shape == (4, 7)
    model.set_stage("joint", "emodb/audio")
    assert model.modality == "audio"

    model.add_head("extra/audio", 3)
    model.set_head("extra/audio")
    assert model.modality == "audio"
    assert model(b)["logits"].shape == (4, 3)
    assert "heads.extra/audio.weight" in model.state_dict()


def test_head_and_stage_errors() -> None:
    model = Jdcdtl(small(), 6)
    assert list(model.heads) == ["default"]
    with pytest.raises(ConfigError):
        model.add_head("default", 4)
    with pytest.raises(ConfigError):
        model.add_head("a.b", 4)
    with pytest.raises(ConfigError):
        model.set_head("missing")
    with pytest.raises(ConfigError):
        model.set_stage("joint")  # no corpora, no plan
    planned = Jdcdtl(small(corpora=CORPORA), 6)
    with pytest.raises(ConfigError):
        planned.set_stage("visual_source", "emodb/audio")
    with pytest.raises(ConfigError):
        planned.set_stage("pretraining")


def test_stage_plan_order() -> None:
    plan = stage_plan(["enterface", "savee", "emodb"])
    assert tuple(s.name for s in plan) == STAGES
    assert [(s.modality, s.corpora) for s in plan] == [
        ("face", ("enterface",)),
        ("face", ("savee",)),
        ("audio", ("emodb",)),
        ("both", CORPORA),
    ]
    assert plan[-1].heads == ("enterface/face", "savee/face", "emodb/audio")
    assert plan[-1].loss_terms == ("cross_entropy", "contrastive")
    assert all(s.loss_terms == ("cross_entropy",) for s in plan[:3])


@pytest.mark.parametrize(
    "options",
    [
        {"modality": "video"},
        {"channels": ()},
        {"embedding": 0},
        {"dropout": 1.0},
        {"audio_norm": "global"},
        {"corpora": ("enterface", "savee")},
        {"corpora": ("enterface", "savee", "savee")},
    ],
)
def test_bad_config_raises(options: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        JdcdtlConfig(**options)  # type: ignore[arg-type]
