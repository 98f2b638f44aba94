"""RALD: shapes and gradients, the batch relation, the label tree's distances by hand, the
coarse prediction as summed fine probabilities, RALD-L, the feed-forward sublayers and fixed
label vectors (given, or read from a generated .npy or word-vector text file)."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch

from emofeat.errors import ConfigError
from emofeat.train.rald import (
    FeedForward,
    Rald,
    RaldConfig,
    file_sha256,
    read_label_vectors,
    shortest_path_distances,
)
from emofeat.train.specs import LabelInfo, get_spec

# Two coarse labels, four fine ones: fine 0, 1 under coarse 0; fine 2, 3 under coarse 1.
TREE = (0, 0, 1, 1)


def batch(n: int = 4, size: int = 32, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {
        "face": torch.randint(0, 256, (n, 3, size, size), generator=g, dtype=torch.uint8),
        "face_mask": torch.ones(n, dtype=torch.bool),
    }


def small(**kwargs: object) -> RaldConfig:
    options: dict[str, object] = {"hierarchy": TREE, "n_coarse": 2, "heads": 2, "dim": 16}
    options.update(kwargs)
    return RaldConfig(**options)  # type: ignore[arg-type]


def test_distances_on_a_two_coarse_four_fine_tree() -> None:
    # Nodes: fine 0..3, coarse 4 (parent of 0, 1) and 5 (parent of 2, 3); a root joins 4 and 5.
    expected = torch.tensor(
        [
            [0, 2, 4, 4, 1, 3],
            [2, 0, 4, 4, 1, 3],
            [4, 4, 0, 2, 3, 1],
            [4, 4, 2, 0, 3, 1],
            [1, 1, 3, 3, 0, 2],
            [3, 3, 1, 1, 2, 0],
        ],
        dtype=torch.float32,
    )
    assert torch.equal(shortest_path_distances(TREE, 2), expected)


def test_distances_without_root_are_sigma_across_subtrees() -> None:
    s = 500.0
    expected = torch.tensor(
        [
            [0, 2, s, s, 1, s],
            [2, 0, s, s, 1, s],
            [s, s, 0, 2, s, 1],
            [s, s, 2, 0, s, 1],
            [1, 1, s, s, 0, s],
            [s, s, 1, 1, s, 0],
        ]
    )
    assert torch.equal(shortest_path_distances(TREE, 2, root=False, sigma=s), expected)


def test_structural_bias_has_one_scalar_per_distance_and_is_looked_up() -> None:
    model = Rald(small(), 4)
    assert model.hlrr is not None
    assert model.hlrr.xi_bias is not None
    assert model.hlrr.xi_values.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    with torch.no_grad():
        model.hlrr.xi_bias.copy_(torch.arange(5.0) * 10)
    bias = model.hlrr.bias()
    assert bias is not None
    assert torch.equal(bias, shortest_path_distances(TREE, 2) * 10)


def test_forward_backward_shapes() -> None:
    torch.manual_seed(0)
    model = Rald(small(), 4)
    out = model(batch())
    assert out["logits"].shape == (4, 4)
    assert out["logits_coarse"].shape == (4, 2)
    assert out["relation"].shape == (4, 4)
    assert out["features"].shape == (4, 16)
    assert out["label_attention"].shape == (4, 6)
    torch.testing.assert_close(out["probs"], out["logits"].softmax(-1))
    (
        out["logits"].sum() + out["logits_coarse"].logsumexp(-1).sum() + out["relation"].square().sum()
    ).backward()
    assert model.hlrr is not None
    assert model.hlrr.xi_bias is not None
    for name, p in [
        ("encoder", next(model.encoder.stem.parameters())),
        ("label embedding", model.embedding.weight if model.embedding else None),
        ("itrr", model.itrr.q.weight),
        ("xi bias", model.hlrr.xi_bias),
    ]:
        assert p is not None, name
        assert p.grad is not None, name
        assert torch.count_nonzero(p.grad) > 0, name


def test_coarse_probabilities_are_summed_fine_probabilities() -> None:
    torch.manual_seed(0)
    out = Rald(small(), 4).eval()(batch())
    probs = out["probs"]
    torch.testing.assert_close(
        out["logits_coarse"].softmax(-1), torch.stack([probs[:, :2].sum(1), probs[:, 2:].sum(1)], 1)
    )


def test_relation_rows_are_a_softmax_that_depends_on_the_batch() -> None:
    torch.manual_seed(0)
    model = Rald(small(), 4).eval()
    first = batch(seed=0)
    with torch.no_grad():
        relation = model(first)["relation"]
        torch.testing.assert_close(relation.sum(1), torch.ones(4))
        assert (relation > 0).all()
        other = {k: v.clone() for k, v in first.items()}
        other["face"][3] = batch(seed=1)["face"][3]
        changed = model(other)["relation"]
    # Image 0's relation to images 1 and 2 is renormalised when image 3 changes.
    assert not torch.allclose(relation[0, :3], changed[0, :3])


def test_faceless_images_are_never_attended_to() -> None:
    torch.manual_seed(0)
    model = Rald(small(), 4).eval()
    b = batch()
    b["face_mask"] = torch.tensor([True, False, True, True])
    with torch.no_grad():
        relation = model(b)["relation"]
    assert torch.equal(relation[:, 1], torch.zeros(4))
    torch.testing.assert_close(relation.sum(1), torch.ones(4))


def test_rald_l_without_hierarchy() -> None:
    torch.manual_seed(0)
    model = Rald(RaldConfig(heads=2, dim=16), 7)
    assert model.hlrr is not None
    assert model.hlrr.xi_bias is None
    out = model(batch())
    assert out["logits"].shape == (4, 7)
    assert out["label_attention"].shape == (4, 7)
    assert "logits_coarse" not in out
    out["logits"].sum().backward()


@pytest.mark.parametrize("nodes", [4, 6])
def test_fixed_label_vectors(nodes: int) -> None:
    torch.manual_seed(0)
    vectors = torch.randn(nodes, 10)
    model = Rald(small(label_encoder="fixed"), 4, label_vectors=vectors)
    assert model.embedding is None
    labels = model.label_features()
    assert labels.shape == (6, 16)
    if nodes == 4:  # coarse vectors are the mean of their fine vectors
        torch.testing.assert_close(labels[4], model.label_project(vectors[:2].mean(0)))
    out = model(batch())
    out["logits"].sum().backward()
    assert model.label_vectors.grad is None
    assert isinstance(model.label_project, torch.nn.Linear)
    assert model.label_project.weight.grad is not None


def test_ablations_run() -> None:
    torch.manual_seed(0)
    for options in ({"itrr": False}, {"hlrr": False}, {"structural_bias": False}, {"lgifo": False}):
        out = Rald(small(**options), 4)(batch())
        assert out["logits"].shape == (4, 4), options
        assert ("label_attention" in out) == options.get("lgifo", True)


def test_default_dimensions_match_the_paper() -> None:
    config = RaldConfig(hierarchy=(0,) * 20 + (1,) * 13, n_coarse=2)
    assert (config.heads, config.dim, config.lam, config.sigma) == (8, 512, 0.125, 500.0)
    model = Rald(config, 33)
    assert model.label_features().shape == (35, 512)


@pytest.mark.parametrize(
    ("options", "n_classes"),
    [
        ({"hierarchy": (0, 0, 1), "n_coarse": 2}, 4),  # hierarchy length differs from n_classes
        ({"hierarchy": (0, 0, 2, 1), "n_coarse": 2}, 4),  # coarse index out of range
        ({"hierarchy": (0, 0, 0, 0), "n_coarse": 2}, 4),  # coarse 1 without fine labels
        ({"hierarchy": (0, 0, 1, 1)}, 4),  # no n_coarse
        ({"n_coarse": 2}, 4),  # n_coarse without hierarchy
        ({"dim": 10, "heads": 4}, 4),
        ({"lam": 0.0}, 4),
        ({"label_encoder": "glove"}, 4),
        ({"label_encoder": "fixed"}, 4),  # no vectors given
        ({}, 0),
    ],
)
def test_bad_config_raises(options: dict[str, object], n_classes: int) -> None:
    with pytest.raises(ConfigError):
        Rald(RaldConfig(**options), n_classes)  # type: ignore[arg-type]


def test_bad_label_vectors_raise() -> None:
    with pytest.raises(ConfigError):
        Rald(small(label_encoder="fixed"), 4, label_vectors=torch.randn(5, 10))
    with pytest.raises(ConfigError):
        Rald(small(), 4, label_vectors=torch.randn(4, 10))


# --------------------------------------------------------------------------- feed-forward sublayers


def test_feed_forward_is_layer_norm_of_x_plus_ffn_x() -> None:
    torch.manual_seed(0)
    block = FeedForward(16, 4)
    assert block.net is not None
    first, second = block.net[0], block.net[2]
    assert isinstance(first, torch.nn.Linear)
    assert isinstance(second, torch.nn.Linear)
    assert (first.in_features, first.out_features, second.out_features) == (16, 64, 16)
    x = torch.randn(5, 16)
    by_hand = torch.nn.functional.layer_norm(x + second(torch.relu(first(x))), (16,))
    torch.testing.assert_close(block(x), by_hand)
    assert FeedForward(16, 0)(x) is x


@pytest.mark.parametrize("block", ["itrr", "hlrr", "lgifo"])
def test_each_blocks_feed_forward_is_in_the_path_and_trained(block: str) -> None:
    torch.manual_seed(0)
    model = Rald(small(), 4).eval()
    b = batch()
    ffn = getattr(model, block).ffn
    assert ffn.net is not None
    with torch.no_grad():
        before = model(b)["logits"]
        ffn.net[2].weight.mul_(3.0)
        after = model(b)["logits"]
    assert not torch.allclose(before, after)
    model.train()
    model(b)["logits"].sum().backward()
    assert ffn.net[0].weight.grad is not None
    assert torch.count_nonzero(ffn.net[0].weight.grad) > 0


def test_ffn_zero_builds_no_feed_forward_and_the_default_is_four_times_dim() -> None:
    plain = Rald(small(ffn=0), 4)
    assert not any(".ffn." in name for name, _ in plain.named_parameters())
    default = Rald(small(), 4)
    assert small().ffn == 4
    assert default.lgifo is not None
    assert default.lgifo.ffn.net is not None
    assert default.lgifo.ffn.net[0].out_features == 64
    with pytest.raises(ConfigError, match="ffn"):
        small(ffn=-1)


# --------------------------------------------------------------------------- label vector files

NAMES = ("Anger", "happy", "sad", "very_surprised")
WORDS = {
    "anger": [1.0, 0.0, 0.0],
    "happy": [0.0, 2.0, 0.0],
    "sad": [0.0, 0.0, 3.0],
    "very": [1.0, 1.0, 1.0],
    "surprised": [3.0, 1.0, -1.0],
    "unrelated": [9.0, 9.0, 9.0],
}


def _text_file(path: Path, words: dict[str, list[float]], header: bool = False) -> Path:
    lines = [f"{len(words)} 3"] if header else []
    lines += [" ".join([word, *(f"{v:g}" for v in vector)]) for word, vector in words.items()]
    lines.append("happy 7 7 7")  # a later duplicate: the first vector counts
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


EXPECTED = np.array([[1, 0, 0], [0, 2, 0], [0, 0, 3], [2, 1, 0]], dtype=np.float32)


@pytest.mark.parametrize("header", [False, True])  # GloVe, word2vec text
def test_word_vector_text_file_gives_one_mean_vector_per_label(tmp_path: Path, header: bool) -> None:
    path = _text_file(tmp_path / "vectors.txt", WORDS, header=header)
    vectors = read_label_vectors(path, NAMES)
    np.testing.assert_array_equal(vectors, EXPECTED)  # "Anger" found in lower case; a mean for two words
    assert vectors.dtype == np.float32


def test_a_missing_word_is_named(tmp_path: Path) -> None:
    words = {k: v for k, v in WORDS.items() if k != "surprised"}
    path = _text_file(tmp_path / "vectors.txt", words)
    with pytest.raises(ConfigError, match=r"'surprised' \(label 'very_surprised'\)"):
        read_label_vectors(path, NAMES)


def test_npy_rows_and_digest_checks(tmp_path: Path) -> None:
    rows = np.arange(12, dtype=np.float64).reshape(4, 3)
    path = tmp_path / "labels.npy"
    np.save(path, rows)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert file_sha256(path) == digest
    np.testing.assert_array_equal(read_label_vectors(path, NAMES, sha256=digest), rows.astype(np.float32))
    with pytest.raises(ConfigError, match="changed"):
        read_label_vectors(path, NAMES, sha256="0" * 64)
    np.save(path, np.zeros(4))
    with pytest.raises(ConfigError, match="2-D"):
        read_label_vectors(path, NAMES)
    with pytest.raises(ConfigError, match="cannot read"):
        read_label_vectors(tmp_path / "absent.npy", NAMES)


def test_the_spec_reads_the_configs_file_into_the_label_encoder(tmp_path: Path) -> None:
    path = _text_file(tmp_path / "vectors.txt", WORDS)
    spec = get_spec("rald")
    labels = LabelInfo(names=NAMES, coarse_of=TREE, coarse_names=("neg", "pos"))
    options = {
        "hierarchy": TREE,
        "n_coarse": 2,
        "heads": 2,
        "dim": 16,
        "label_encoder": "fixed",
        "label_vectors": str(path),
    }
    torch.manual_seed(0)
    model, config, _ = spec.build(options, labels)
    assert isinstance(model, Rald)
    assert config.label_vectors == str(path.resolve())
    assert config.label_vectors_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    np.testing.assert_array_equal(model.label_vectors.numpy(), EXPECTED)
    # Coarse nodes are the means of their fine rows, projected like them.
    torch.testing.assert_close(
        model.label_features()[4], model.label_project(torch.from_numpy(EXPECTED[:2].mean(0)))
    )
    assert "label_vectors" in model.state_dict()  # the vectors travel in the checkpoint
    # Judged again with the recorded digest: the same file passes, a changed one does not.
    recorded = dataclasses.asdict(config)
    spec.build(recorded, labels)
    path.write_text(path.read_text() + "extra 0 0 0\n")
    with pytest.raises(ConfigError, match="changed"):
        spec.build(recorded, labels)


def test_label_vectors_need_the_fixed_encoder_and_fixed_needs_a_file(tmp_path: Path) -> None:
    spec = get_spec("rald")
    labels = LabelInfo(names=NAMES)
    path = _text_file(tmp_path / "vectors.txt", WORDS)
    with pytest.raises(ConfigError, match='label_encoder = "fixed"'):
        spec.build({"label_vectors": str(path)}, labels)
    with pytest.raises(ConfigError, match="label_vectors"):
        spec.build({"label_encoder": "fixed", "heads": 2, "dim": 16}, labels)
    with pytest.raises(ConfigError, match="cannot read"):
        spec.build({"label_encoder": "fixed", "label_vectors": str(tmp_path / "none.txt")}, labels)
