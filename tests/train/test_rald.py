"""RALD: shapes and gradients, the batch relation, the label tree's distances by hand, the
coarse prediction as summed fine probabilities, RALD-L and fixed label vectors."""

from __future__ import annotations

import pytest
import torch

from emofeat.errors import ConfigError
from emofeat.train.rald import Rald, RaldConfig, shortest_path_distances

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
