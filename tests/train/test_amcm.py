"""AMCM (improved ConvMixer + CMTAM): shapes on the clip view's batches, gradients to SAM, TAM
and LIM, their initialisation, masks (missing faces, padded and absent audio), the ablations,
config validation and the paper-size matrices."""

from __future__ import annotations

import time
from typing import Any

import pytest
import torch

from emofeat.errors import ConfigError
from emofeat.train.amcm import Amcm, AmcmConfig, AmcmLayer, Cmtam, ConvMixerLayer

SMALL = AmcmConfig(
    channels=32, frames=4, size=28, patch=7, depth=2, audio_dim=16, attention_dim=16, dropout=0
)


def clip_batch(
    config: AmcmConfig = SMALL, batch: int = 3, audio: int = 40, seed: int = 0, mfcc_mask: bool = True
) -> dict[str, torch.Tensor]:
    """A clip-view-shaped batch: item 0 misses its last two faces and has half its audio."""
    g = torch.Generator().manual_seed(seed)
    t, s = config.frames, config.size
    face_mask = torch.ones(batch, t, dtype=torch.bool)
    face_mask[0, t // 2 :] = False
    out = {
        "face": torch.randint(0, 256, (batch, t, 3, s, s), generator=g, dtype=torch.uint8),
        "face_mask": face_mask,
        "mfcc": torch.randn(batch, audio, 40, generator=g) * 10,
    }
    if mfcc_mask:
        lengths = torch.full((batch,), audio)
        lengths[0] = audio // 2
        out["mfcc_mask"] = torch.arange(audio)[None, :] < lengths[:, None]
        out["mfcc"] = out["mfcc"] * out["mfcc_mask"][..., None]
    return out


def model(config: AmcmConfig = SMALL, n_classes: int = 5, seed: int = 0) -> Amcm:
    torch.manual_seed(seed)
    return Amcm(config, n_classes)


def test_forward_backward_shapes_and_gradients() -> None:
    net = model()
    out = net(clip_batch())
    assert out["logits"].shape == (3, 5)
    assert out["features"].shape == (3, 2 * SMALL.attention_dim)
    assert torch.isfinite(out["logits"]).all()
    out["logits"].square().sum().backward()
    layers = [layer for layer in net.layers if isinstance(layer, AmcmLayer)]
    assert len(layers) == SMALL.depth
    for layer in layers:
        for p in (layer.sam, layer.tam):
            assert p.grad is not None
            assert p.grad.abs().sum() > 0
    for cmtam in (net.cmtam_video, net.cmtam_audio):
        assert cmtam is not None
        assert cmtam.lim.grad is not None
        assert cmtam.lim.grad.abs().sum() > 0
    assert all(p.grad is not None for p in net.audio.parameters())


def test_initialisation_of_sam_tam_and_lim() -> None:
    net = model()
    n = SMALL.grid
    for layer in net.layers:
        assert isinstance(layer, AmcmLayer)
        assert layer.sam.shape == (n * n, n * n)
        assert torch.equal(layer.sam.detach(), torch.ones(n * n, n * n))
        assert layer.tam.shape == (SMALL.frames, SMALL.frames)
        assert torch.equal(layer.tam.detach(), torch.ones(SMALL.frames, SMALL.frames))
    assert net.cmtam_video is not None
    lim = net.cmtam_video.lim.detach()  # random, as the paper says (Xavier-uniform bound)
    bound = (6 / (2 * SMALL.attention_dim)) ** 0.5
    assert lim.shape == (SMALL.attention_dim, SMALL.attention_dim)
    assert lim.abs().max() <= bound
    assert not torch.equal(lim, torch.eye(SMALL.attention_dim))
    assert lim.std() > bound / 4


def test_amcm_layer_mixes_all_positions_and_frames_convmixer_only_neighbours() -> None:
    torch.manual_seed(0)
    mask = torch.ones(2, 3, dtype=torch.bool)
    f = torch.randn(2, 3, 25, 8)
    changed = f.clone()
    changed[:, 0, 0] += 5  # frame 0, top-left position
    amcm = AmcmLayer(8, 5, 3).eval()
    convmixer = ConvMixerLayer(8, 5, 3).eval()
    with torch.no_grad():
        delta = (amcm(changed, mask) - amcm(f, mask)).abs().sum(-1)
        assert (delta > 1e-6).all()  # SAM reaches every position, TAM every frame
        delta = (convmixer(changed, mask) - convmixer(f, mask)).abs().sum(-1)
        assert (delta[:, 1:] == 0).all()  # frames stay apart
        assert (delta[:, 0].view(2, 5, 5)[:, 2:, 2:] == 0).all()  # a 3x3 kernel stays local
        assert (delta[:, 0, 0] > 0).all()


@pytest.mark.parametrize("train", [True, False])
def test_missing_faces_do_not_change_the_output(train: bool) -> None:
    net = model().train(train)
    batch = clip_batch()
    with torch.no_grad():
        before = net(batch)["logits"]
        changed = dict(batch)
        changed["face"] = batch["face"].clone()
        changed["face"][0, SMALL.frames // 2 :] = 255 - changed["face"][0, SMALL.frames // 2 :]
        after = net(changed)["logits"]
        assert torch.allclose(before, after, atol=1e-5)
        # ...whereas a frame that has a face does count
        changed["face"][0, 0] = 255 - changed["face"][0, 0]
        assert not torch.allclose(before[0], net(changed)["logits"][0], atol=1e-4)


def test_padded_audio_rows_do_not_change_the_output() -> None:
    net = model().eval()
    batch = clip_batch()
    with torch.no_grad():
        before = net(batch)["logits"]
        changed = dict(batch)
        changed["mfcc"] = batch["mfcc"].clone()
        changed["mfcc"][~batch["mfcc_mask"]] = 50.0
        assert torch.allclose(before, net(changed)["logits"], atol=1e-5)


def test_valid_audio_steps_follow_the_resnet_reduction() -> None:
    """A step of the 32-fold reduced map is valid when it covers a real MFCC row."""
    net = model().eval()
    lengths = torch.tensor([0, 1, 32, 33, 64, 65, 100])
    mask = torch.arange(100)[None, :] < lengths[:, None]
    with torch.no_grad():
        seq, valid = net.encode_audio(torch.randn(7, 100, 40), mask)
        assert seq.shape == (7, 4, SMALL.audio_dim)
        assert valid.sum(1).tolist() == [0, 1, 1, 2, 2, 3, 4]
        seq, valid = net.encode_audio(torch.randn(2, 5, 40), torch.ones(2, 5, dtype=torch.bool))
        assert seq.shape[1] == 1  # padded to min_audio_frames
        assert valid.all()


@pytest.mark.parametrize("fusion", ["cmtam", "concat"])
def test_time_averages_cover_valid_steps_only(fusion: str) -> None:
    config = AmcmConfig(
        channels=16, frames=4, size=28, patch=7, depth=1, audio_dim=8, attention_dim=8, fusion=fusion
    )
    net = model(config).eval()
    batch = clip_batch(config, audio=80)  # item 0: faces 0-1 of 4, audio steps 0-1 of 3
    with torch.no_grad():
        features = net(batch)["features"]
        x_v = net.encode_faces(batch["face"], batch["face_mask"])
        x_a, audio_mask = net.encode_audio(batch["mfcc"], batch["mfcc_mask"])
        assert audio_mask[0].tolist() == [True, True, False]
        if net.cmtam_video is not None and net.cmtam_audio is not None:
            x_v, x_a = (
                net.cmtam_video(x_v, x_a, audio_mask),
                net.cmtam_audio(x_a, x_v, batch["face_mask"]),
            )
        width = x_v.shape[-1]
        assert torch.allclose(features[0, :width], x_v[0, :2].mean(0), atol=1e-5)
        assert torch.allclose(features[0, width:], x_a[0, :2].mean(0), atol=1e-5)
        assert torch.allclose(features[1, :width], x_v[1].mean(0), atol=1e-5)


def test_no_audio_and_no_mask() -> None:
    net = model().eval()
    batch = clip_batch(audio=0)
    assert batch["mfcc"].shape == (3, 0, 40)
    with torch.no_grad():
        out = net(batch)["logits"]
        assert out.shape == (3, 5)
        assert torch.isfinite(out).all()
        # without audio the output does not depend on the audio's padding length
        longer = dict(batch, mfcc=torch.zeros(3, 70, 40), mfcc_mask=torch.zeros(3, 70, dtype=torch.bool))
        assert torch.allclose(out, net(longer)["logits"], atol=1e-5)
        unmasked = clip_batch(mfcc_mask=False)
        assert "mfcc_mask" not in unmasked
        assert net(unmasked)["logits"].shape == (3, 5)
    train = model()
    train(clip_batch(audio=0))["logits"].sum().backward()


def test_a_clip_without_any_face() -> None:
    net = model()
    batch = clip_batch()
    batch["face_mask"][1] = False
    out = net(batch)["logits"]
    assert torch.isfinite(out).all()
    out.sum().backward()


@pytest.mark.parametrize("encoder", ["amcm", "convmixer"])
@pytest.mark.parametrize("fusion", ["cmtam", "concat"])
def test_ablations_build_and_run(encoder: str, fusion: str) -> None:
    config = AmcmConfig(
        channels=16, frames=4, size=28, patch=7, depth=2, audio_dim=8, encoder=encoder, fusion=fusion
    )
    net = model(config, 3)
    layer_type = AmcmLayer if encoder == "amcm" else ConvMixerLayer
    assert all(isinstance(layer, layer_type) for layer in net.layers)
    assert (net.cmtam_video is not None) == (fusion == "cmtam")
    out = net(clip_batch(config))
    assert out["logits"].shape == (3, 3)
    width = 2 * config.attention_dim if fusion == "cmtam" else config.channels + config.audio_dim
    assert out["features"].shape == (3, width)
    out["logits"].sum().backward()


def test_cmtam_handles_different_lengths_and_masked_keys() -> None:
    torch.manual_seed(0)
    cmtam = Cmtam(6, 10, 8).eval()
    q, kv = torch.randn(2, 5, 6), torch.randn(2, 3, 10)
    mask = torch.tensor([[True, True, False], [False, False, False]])
    out = cmtam(q, kv, mask)
    assert out.shape == (2, 5, 8)
    changed = kv.clone()
    changed[0, 2] += 100
    changed[1] += 100
    assert torch.allclose(out, cmtam(q, changed, mask), atol=1e-5)


BAD: list[dict[str, Any]] = [
    {"size": 30},
    {"patch": 0},
    {"frames": 0},
    {"channels": -1},
    {"depth": 0},
    {"kernel_size": 8},
    {"encoder": "transformer"},
    {"fusion": "sum"},
    {"dropout": 1.0},
    {"dropout": -0.1},
    {"audio_dim": 2.5},
    {"frames": True},
]


@pytest.mark.parametrize("change", BAD)
def test_bad_config_raises(change: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        AmcmConfig(**change)


def test_bad_classes_and_batch_shape_raise() -> None:
    with pytest.raises(ConfigError):
        Amcm(SMALL, 0)
    net = model()
    with pytest.raises(ConfigError):
        net(clip_batch(AmcmConfig(channels=32, frames=5, size=28, patch=7)))
    with pytest.raises(ConfigError):
        net(clip_batch(AmcmConfig(channels=32, frames=4, size=35, patch=7)))


def test_paper_size() -> None:
    config = AmcmConfig()
    assert (config.frames, config.size, config.patch, config.grid, config.depth) == (16, 112, 7, 16, 4)
    net = model(config, 8).eval()
    for layer in net.layers:
        assert isinstance(layer, AmcmLayer)
        assert layer.sam.shape == (256, 256)
        assert layer.tam.shape == (16, 16)
    start = time.perf_counter()
    with torch.no_grad():
        out = net(clip_batch(config, batch=1, audio=120))
    assert out["logits"].shape == (1, 8)
    assert torch.isfinite(out["logits"]).all()
    assert time.perf_counter() - start < 10
