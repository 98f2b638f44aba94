"""The unified vocabulary: synonyms, overrides, quadrants, and every adapter's mapping."""

from __future__ import annotations

from emofeat.corpora import adapter_names, get_adapter
from emofeat.corpora.vocabulary import QUADRANTS, UNIFIED, quadrant, unify


def test_synonyms_and_overrides() -> None:
    assert unify(("anger", "Happiness", "surprise", "none")) == {
        "anger": "angry",
        "Happiness": "happy",
        "surprise": "surprised",
        "none": None,
    }
    assert unify(("love", "disgust"), {"love": None, "disgust": "contempt"}) == {
        "love": None,
        "disgust": "contempt",
    }


def test_every_unified_label_has_a_quadrant_entry() -> None:
    assert set(QUADRANTS) == set(UNIFIED)
    assert quadrant("happy") == "Q1"
    assert quadrant("angry") == "Q2"
    assert quadrant("sad") == "Q3"
    assert quadrant("calm") == "Q4"
    assert quadrant("other") is None
    assert quadrant(None) is None


def test_every_adapter_maps_every_native_label_into_the_vocabulary() -> None:
    for name in adapter_names():
        adapter = get_adapter(name)
        assert set(adapter.unified) >= set(adapter.labels), name
        assert {v for v in adapter.unified.values() if v is not None} <= set(UNIFIED), name


def test_free_form_labels_unify_through_synonyms() -> None:
    folder = get_adapter("folder")
    assert folder.unified_label(" Anger ") == "angry"
    assert folder.unified_label("giggly") is None
    assert folder.unified_label(None) is None
