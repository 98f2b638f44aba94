"""The quality-control report's HTML: one self-contained page that opens from disk.

No stylesheet, script or font comes from the network: the style and the one small script
are inline, and every image is a PNG beside ``index.html``, referenced by a relative path.
Every piece of text from the store (clip ids, labels, error messages) is HTML-escaped.

The inline script runs once the page has loaded: it marks each image with
``data-loaded="yes"`` (or ``"no"``, outlined in red, when it failed to load) and its place on
the page, ``data-rect="left,top,width,height"`` in CSS pixels, and sets
``data-checked="yes"`` on ``<body>``. A headless browser's DOM dump shows both, so a check
can tell that every image loaded and where each one is.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

STYLE = """
body { font-family: sans-serif; margin: 1.5em; color: #222; max-width: 1100px; }
h1 { font-size: 1.5em; } h2 { border-bottom: 1px solid #ccc; padding-top: 0.5em; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.9em; }
td, th { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } code { font-size: 0.9em; }
img { display: block; margin: 0.4em 0; max-width: none; }
img[data-loaded="no"] { outline: 3px solid #d00; }
.charts { display: flex; flex-wrap: wrap; gap: 0.5em; }
.note { color: #666; font-size: 0.9em; }
"""

SCRIPT = """
window.addEventListener("load", function () {
  document.querySelectorAll("img").forEach(function (img) {
    var r = img.getBoundingClientRect();
    img.dataset.loaded = img.complete && img.naturalWidth > 0 ? "yes" : "no";
    img.dataset.rect = [r.left + window.scrollX, r.top + window.scrollY, r.width, r.height]
      .map(Math.round).join(",");
  });
  document.body.dataset.checked = "yes";
});
"""


@dataclass(frozen=True)
class Image:
    """One PNG of the page: its file name (beside ``index.html``), what it shows, its size."""

    file: str
    kind: str  # faces, timeline, labels, durations, face_ratio, folds
    alt: str
    width: int
    height: int


@dataclass(frozen=True)
class Section:
    """What the page shows of one corpus."""

    corpus: str
    feature_version: str | None
    created: str | None
    counts: dict[str, int]
    faces: Image | None
    sampled: list[str]
    timelines: list[Image]
    charts: list[Image]
    folds: list[dict[str, Any]]
    split_subjects: list[str]
    failures: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _img(image: Image) -> str:
    return (
        f'<img src="{_e(quote(image.file))}" alt="{_e(image.alt)}" data-kind="{_e(image.kind)}" '
        f'width="{image.width}" height="{image.height}">'
    )


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A table of already-escaped cells."""
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _failures(section: Section) -> str:
    if not section.failures:
        return '<p class="note">No clip failed in this feature version.</p>'
    rows = []
    for group in section.failures:
        examples = "<br>".join(
            f"<code>{_e(x['clip_id'])}</code>: {_e(x['error'])}" for x in group["examples"]
        )
        rows.append([_e(group["stage"]), f"<code>{_e(group['kind'])}</code>", _e(group["count"]), examples])
    return _table(["stage", "kind", "clips", "examples"], rows)


def _folds(section: Section) -> str:
    if not section.folds:
        return '<p class="note">No folds recorded.</p>'
    rows = [
        [
            _e(f["fold"]),
            _e(f["clips"]),
            _e(f["subjects"]),
            _e(", ".join(f["names"]) + (", …" if f["subjects"] > len(f["names"]) else "")),
        ]
        for f in section.folds
    ]
    text = _table(["fold", "clips", "subjects", "subjects (first)"], rows)
    if section.split_subjects:
        names = ", ".join(section.split_subjects[:20])
        text += f'<p class="note">Subjects in more than one fold: {_e(names)}</p>'
    return text


def _section(section: Section) -> str:
    counts = ", ".join(f"{_e(v)} {_e(k)}" for k, v in section.counts.items())
    version = _e(section.feature_version or "none")
    parts = [
        f'<section id="corpus-{_e(section.corpus)}"><h2>{_e(section.corpus)}</h2>',
        f"<p>Feature version <code>{version}</code>"
        + (f" (created {_e(section.created)})" if section.created else "")
        + f": {counts}.</p>",
        *(f'<p class="note">{_e(n)}</p>' for n in section.notes),
        "<h3>Face crops</h3>",
    ]
    if section.faces is None:
        parts.append('<p class="note">No ok clip with video to sample.</p>')
    else:
        parts.append(
            f'<p class="note">The middle frame with a face of {len(section.sampled)} sampled clips.</p>'
        )
        parts.append(_img(section.faces))
        ids = "".join(f"<li><code>{_e(c)}</code></li>" for c in section.sampled)
        parts.append(f"<details><summary>sampled clips</summary><ol>{ids}</ol></details>")
    parts.append("<h3>Tags over time</h3>")
    if not section.timelines:
        parts.append('<p class="note">No ok clip with audio or more than one frame to show.</p>')
    parts.extend(_img(t) for t in section.timelines)
    parts.append('<h3>Distributions</h3><div class="charts">')
    parts.extend(_img(c) for c in section.charts)
    parts.append("</div><h3>Folds by subject</h3>")
    parts.append(_folds(section))
    parts.append("<h3>Failures by stage and kind</h3>")
    parts.append(_failures(section))
    parts.append("</section>")
    return "\n".join(parts)


def render_page(store: str, snapshot: str, tag: str | None, sections: Sequence[Section]) -> str:
    """The report's ``index.html``.

    Parameters
    ----------
    store : str
        The store's path, as given.
    snapshot : str
        The snapshot every figure was read from.
    tag : str or None
        The release tag it was opened by, if any.
    sections : sequence of Section
        One per corpus, in order.

    Returns
    -------
    str
        A complete HTML document.
    """
    pinned = f"snapshot <code>{_e(snapshot)}</code>" + (f" (tag <code>{_e(tag)}</code>)" if tag else "")
    toc = " · ".join(f'<a href="#corpus-{_e(s.corpus)}">{_e(s.corpus)}</a>' for s in sections)
    body = "\n".join(_section(s) for s in sections) or '<p class="note">The snapshot holds no corpus.</p>'
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>emofeat quality report: {_e(snapshot)}</title>"
        f"<style>{STYLE}</style><script>{SCRIPT}</script></head>\n<body>"
        f"<h1>emofeat quality report</h1><p>Store <code>{_e(store)}</code>, {pinned}.</p>"
        f"<p>{toc}</p>\n{body}\n</body></html>\n"
    )
