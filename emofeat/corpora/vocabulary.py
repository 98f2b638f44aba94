"""The unified emotion vocabulary, its valence/arousal quadrants, and label hierarchies.

Every clip keeps its corpus's native label and also gets a unified one, so corpora can be
mixed (the cross-corpus transfer paper needs this). Mappings are data: each adapter declares
``unified = {native: unified-or-None}``; hierarchies (fine -> coarse) are dicts here or in the
adapter module, never code branches.

Quadrants (Russell's circumplex; the coarse classes of the GCSA paper's coarse-fine loss):

=====  ==================  ==========================================
Q1     +valence +arousal   happy, surprised
Q2     -valence +arousal   angry, fearful, disgust, contempt
Q3     -valence -arousal   sad, boredom
Q4     +valence -arousal   calm, neutral
=====  ==================  ==========================================

Surprise is placed in Q1 (its usual place in the circumplex; its valence varies); neutral
sits at the centre and is put in Q4 beside calm, as in most four-quadrant schemes.
``other`` (Aff-Wild2's catch-all) has no quadrant.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

#: The unified labels, in a fixed order (class indices of cross-corpus models).
UNIFIED: tuple[str, ...] = (
    "neutral",
    "calm",
    "happy",
    "sad",
    "angry",
    "fearful",
    "disgust",
    "surprised",
    "contempt",
    "boredom",
    "other",
)

QUADRANTS: Mapping[str, str | None] = {
    "happy": "Q1",
    "surprised": "Q1",
    "angry": "Q2",
    "fearful": "Q2",
    "disgust": "Q2",
    "contempt": "Q2",
    "sad": "Q3",
    "boredom": "Q3",
    "calm": "Q4",
    "neutral": "Q4",
    "other": None,
}


#: English emotion names as corpora write them -> the unified label. Shared data: an adapter
#: declares ``unified = unify(labels)`` and lists only what differs.
SYNONYMS: Mapping[str, str] = {name: name for name in UNIFIED} | {
    "anger": "angry",
    "disgusted": "disgust",
    "fear": "fearful",
    "happiness": "happy",
    "sadness": "sad",
    "surprise": "surprised",
    "bored": "boredom",
}


def unify(labels: Iterable[str], overrides: Mapping[str, str | None] | None = None) -> dict[str, str | None]:
    """Native label -> unified label through :data:`SYNONYMS` (``None`` where none fits)."""
    extra = overrides or {}
    return {label: extra[label] if label in extra else SYNONYMS.get(label.lower()) for label in labels}


def quadrant(unified: str | None) -> str | None:
    """The valence/arousal quadrant (``Q1``..``Q4``) of a unified label, or ``None``."""
    return None if unified is None else QUADRANTS.get(unified)


def check_mapping(corpus: str, labels: tuple[str, ...], unified: Mapping[str, str | None]) -> None:
    """Raise ``ValueError`` unless ``unified`` maps every native label into :data:`UNIFIED`."""
    missing = [label for label in labels if label not in unified]
    if missing:
        raise ValueError(f"{corpus}: native labels {missing} have no unified mapping")
    bad = {k: v for k, v in unified.items() if v is not None and v not in UNIFIED}
    if bad:
        raise ValueError(f"{corpus}: {bad} map outside the unified vocabulary {UNIFIED}")
