"""GCSA (MCNN audio, RHCNN video, global channel-spatial attention, proportional decision
fusion): shapes on the window view's batches, the attention block and channel shuffle, the
fusion formula, masks, the single-modality ablations and config validation."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from emofeat.errors import ConfigError
from emofeat.train.gcsa import GCSA, Gcsa, GcsaConfig, channel_shuffle

SMALL = GcsaConfig(audio_channels=8, video_channels=16, dropout=0)


def window_batch(
    batch: int = 3, frames: int = 2, size: int = 32, audio: int = 20, bins: int = 257, seed: int = 0
) -> dict[str, torch.Tensor]:
    """A window-view-shaped batch: item 0 misses its last face and half its audio."""
    g = torch.Generator().manual_seed(seed)
    face_mask = torch.ones(batch, frames, dtype=torch.bool)
    face_mask[0, -1] = False
    lengths = torch.full((batch,), audio)
    lengths[0] = audio // 2
    audio_mask = torch.arange(audio)[None, :] < lengths[:, None]
    return {
        "face": torch.randint(0, 256, (batch, frames, 3, size, size), generator=g, dtype=torch.uint8),
        "face_mask": face_mask,
        "spectrogram": (torch.randn(batch, audio, bins, generator=g) * 10 - 40) * audio_mask[..., None],
        "spectrogram_mask": audio_mask,
    }


def model(config: GcsaConfig = SMALL, n_classes: int = 8, seed: int = 0) -> Gcsa:
    torch.manual_seed(seed)
    return Gcsa(config, n_classes)


def test_forward_backward_shapes() -> None:
    net = model()
    out = net(window_batch())
    assert set(out) == {"logits", "logits_audio", "logits_video"}
    assert all(v.shape == (3, 8) for v in out.values())
    out["logits"].sum().backward()
    assert net.audio is not None
    assert net.video is not None
    for branch in (net.audio, net.video):
        grads = [p.grad for p in branch.parameters()]
        assert all(g is not None for g in grads)
        assert any(g is not None and g.abs().sum() > 0 for g in grads)


def test_logits_are_log_probabilities_of_the_proportional_fusion() -> None:
    net = model(GcsaConfig(audio_channels=8, video_channels=16, m=2, n=1)).eval()
    with torch.no_grad():
        out = net(window_batch())
    p = out["logits"].exp()
    assert torch.allclose(p.sum(1), torch.ones(3), atol=1e-5)
    expected = (2 * out["logits_audio"].softmax(1) + out["logits_video"].softmax(1)) / 3
    assert torch.allclose(p, expected, atol=1e-6)
    # with other weights the fused decision moves
    assert not torch.allclose(p, (out["logits_audio"].softmax(1) + out["logits_video"].softmax(1)) / 2)


def test_gcsa_block_preserves_shape_and_attends_in_unit_interval() -> None:
    torch.manual_seed(0)
    block = GCSA(16)
    x = torch.randn(2, 16, 5, 7)
    out, channel, spatial = block.attend(x)
    assert out.shape == x.shape
    assert torch.equal(block(x), out)
    for att in (channel, spatial):
        assert att.shape == x.shape
        assert att.min() > 0
        assert att.max() < 1
    # the output is the shuffled, channel-weighted map weighted again in space
    assert torch.allclose(out, channel_shuffle(x * channel, 4) * spatial)


@pytest.mark.parametrize(
    ("channels", "reduction", "groups", "kernel"), [(10, 4, 2, 7), (16, 4, 3, 7), (16, 4, 4, 6)]
)
def test_gcsa_block_rejects_bad_sizes(channels: int, reduction: int, groups: int, kernel: int) -> None:
    with pytest.raises(ConfigError):
        GCSA(channels, reduction, groups, kernel)


def test_channel_shuffle_is_a_permutation_undone_by_the_transposed_shuffle() -> None:
    x = torch.arange(12.0).view(1, 12, 1, 1).expand(2, 12, 3, 2).contiguous()
    shuffled = channel_shuffle(x, 4)
    order = shuffled[0, :, 0, 0].long()
    assert sorted(order.tolist()) == list(range(12))
    assert order.tolist() == [0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11]
    assert torch.equal(channel_shuffle(shuffled, 3), x)
    y = torch.randn(2, 12, 4, 4)
    assert torch.equal(channel_shuffle(channel_shuffle(y, 2), 6), y)
    assert not torch.equal(channel_shuffle(y, 2), y)
    assert torch.equal(channel_shuffle(y, 1), y)
    with pytest.raises(ValueError, match="groups"):
        channel_shuffle(y, 5)


@pytest.mark.parametrize("train", [True, False])
def test_missing_faces_and_padded_audio_do_not_change_the_output(train: bool) -> None:
    net = model().train(train)
    batch = window_batch()
    with torch.no_grad():
        before = net(batch)
        changed = dict(batch)
        changed["face"] = batch["face"].clone()
        changed["face"][0, -1] = 255 - changed["face"][0, -1]
        changed["spectrogram"] = batch["spectrogram"].clone()
        changed["spectrogram"][~batch["spectrogram_mask"]] = 30.0
        after = net(changed)
        for key in before:
            assert torch.allclose(before[key], after[key], atol=1e-5), key
        # ...whereas a present face does count
        changed["face"][0, 0] = 255 - changed["face"][0, 0]
        assert not torch.allclose(before["logits_video"][0], net(changed)["logits_video"][0], atol=1e-4)


def test_missing_face_is_excluded_from_the_frame_average() -> None:
    """One present face among two is the same as that face alone."""
    net = model().eval()
    batch = window_batch()
    single = dict(batch, face=batch["face"][:, :1], face_mask=batch["face_mask"][:, :1])
    with torch.no_grad():
        assert torch.allclose(net(batch)["logits_video"][0], net(single)["logits_video"][0], atol=1e-5)


def test_windows_without_faces_or_audio_and_without_masks() -> None:
    net = model()
    batch = window_batch()
    batch["face_mask"][:] = False
    batch["spectrogram_mask"][1] = False
    out = net(batch)
    assert torch.isfinite(out["logits"]).all()
    out["logits"].sum().backward()
    net.eval()
    assert net.audio is not None
    with torch.no_grad():  # no audio frame: the pooled map is zero, the scores the classifier's bias
        assert torch.allclose(net(batch)["logits_audio"][1], net.audio.classifier.bias)
    unmasked = {k: v for k, v in window_batch(audio=3).items() if not k.endswith("_mask")}
    assert net(unmasked)["logits"].shape == (3, 8)


@pytest.mark.parametrize("modality", ["audio", "video"])
def test_single_modality_ablations(modality: str) -> None:
    net = model(GcsaConfig(audio_channels=8, video_channels=16, modality=modality))
    assert (net.audio is None) == (modality == "video")
    assert (net.video is None) == (modality == "audio")
    batch = window_batch()
    del batch["face" if modality == "audio" else "spectrogram"]
    out = net(batch)
    assert set(out) == {"logits", f"logits_{modality}"}
    assert torch.allclose(out["logits"], out[f"logits_{modality}"].log_softmax(1))
    out["logits"].sum().backward()


def test_logmel_input() -> None:
    net = model(GcsaConfig(audio_channels=8, video_channels=16, audio_key="logmel"))
    batch = window_batch()
    g = torch.Generator().manual_seed(3)
    batch["logmel"] = torch.randn(3, 20, 64, 3, generator=g)
    batch["logmel_mask"] = batch.pop("spectrogram_mask")
    del batch["spectrogram"]
    out = net(batch)
    assert out["logits"].shape == (3, 8)
    out["logits"].sum().backward()


BAD: list[dict[str, Any]] = [
    {"m": 0},
    {"m": 6},
    {"n": 0},
    {"n": 6},
    {"m": 1.5},
    {"n": True},
    {"m": -1},
    {"modality": "text"},
    {"audio_key": "mfcc"},
    {"audio_channels": 7},
    {"video_channels": 18},
    {"audio_kernel": 4},
    {"spatial_kernel": 0},
    {"min_audio_frames": 3},
    {"dropout": 1.0},
]


@pytest.mark.parametrize("change", BAD)
def test_bad_config_raises(change: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        GcsaConfig(**change)


def test_all_valid_weights_are_accepted_and_classes_checked() -> None:
    for m in range(1, 6):
        for n in range(1, 6):
            GcsaConfig(m=m, n=n)
    with pytest.raises(ConfigError):
        Gcsa(SMALL, 0)


def test_paper_size() -> None:
    config = GcsaConfig()
    assert (config.m, config.n, config.dropout, config.reduction, config.groups) == (1, 1, 0.2, 4, 4)
    net = model(config).eval()
    with torch.no_grad():
        out = net(window_batch(batch=1, frames=8, size=112, audio=200))
    assert out["logits"].shape == (1, 8)
    assert torch.allclose(out["logits"].exp().sum(), torch.tensor(1.0), atol=1e-5)


def test_learned_modality_weights_start_at_m_n_get_gradients_and_move_the_fusion() -> None:
    net = model(GcsaConfig(audio_channels=8, video_channels=16, m=3, n=1, dropout=0))
    assert net.fusion_log_weights is not None
    assert net.fusion_weights() == pytest.approx((0.75, 0.25))
    b = window_batch()
    out = net(b)
    out["logits"].sum().backward()
    assert net.fusion_log_weights.grad is not None
    assert net.fusion_log_weights.grad.abs().sum() > 0
    net.eval()
    with torch.no_grad():
        net.fusion_log_weights.copy_(torch.tensor([1.0, 4.0]).log())
        out = net(b)
    expected = (out["logits_audio"].softmax(1) + 4 * out["logits_video"].softmax(1)) / 5
    torch.testing.assert_close(out["logits"].exp(), expected)
    assert net.parameter_groups() == {"modality_weights": [net.fusion_log_weights]}


def test_fixed_weights_and_single_branches_have_no_modality_weights() -> None:
    for config in (
        GcsaConfig(audio_channels=8, video_channels=16, learn_weights=False),
        GcsaConfig(audio_channels=8, video_channels=16, modality="video"),
    ):
        net = model(config)
        assert net.fusion_log_weights is None
        assert net.parameter_groups() == {"modality_weights": []}
        assert not any("fusion" in name for name, _ in net.named_parameters())
    with pytest.raises(ConfigError):
        GcsaConfig(learn_weights="yes")  # type: ignore[arg-type]
