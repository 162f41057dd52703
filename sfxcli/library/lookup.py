"""Look a label up in a library: its recordings ranked by words, UCS synonyms and sentence vectors.

Each recording gets a score in 0..1 and a sentence saying why, for the sidecar:

- words: the share of the label's words (weighted by rarity in this library)
  found in the recording's label (full weight) or its tags and folders (half);
- UCS: the recording's CatID is the label's UCS category, or its words are
  that category's synonyms;
- meaning: cosine similarity of sentence vectors (see ``embed``), which finds
  "kitty meow" for "cat" where no word is shared.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from sfxcli.labels import fold, ucs_for, stem, tokens
from sfxcli.library.index import Entry

WELL_COVERED = 0.65  # a best score at least this high means the library knows this sound
# word-averaged sentence vectors of unrelated short labels sit near 0.3 cosine, near-synonyms near 0.9
COSINE_FLOOR, COSINE_CEILING = 0.3, 0.9


@dataclass(frozen=True)
class Hit:
    """A recording that answers a label: how well (0..1) and why."""

    entry: Entry
    score: float
    why: str


@lru_cache(maxsize=1 << 16)
def _words(text: str) -> frozenset[str]:
    """A recording's words, stemmed once per process (a resident server ranks every request)."""
    return frozenset(tokens(text))


def lookup(label: str, entries: list[Entry], vectors: np.ndarray | None = None, limit: int = 12) -> list[Hit]:
    """Best candidates first. ``vectors`` are the entries' unit sentence vectors, row for row, if known."""
    from sfxcli.library.embed import label_vector

    query = [w for w in tokens(label) if len(w) > 1]
    if not entries or not query:
        return []
    labels = [_words(e.label) for e in entries]
    tags = [_words(e.tags) for e in entries]
    document_frequency = Counter(w for words in labels for w in words)
    n = len(entries)
    idf = {w: math.log(1 + n / (1 + document_frequency.get(w, 0))) for w in query}
    total = sum(idf.values())
    ucs, ucs_score = ucs_for(label)
    ucs_words = set()
    if ucs is not None and ucs_score >= min(2.0, float(len(query))):
        ucs_words = {stem(w) for s in (ucs.subcategory, *ucs.synonyms) for w in fold(s).split()}
    semantic = None
    if vectors is not None and len(vectors) == n:
        qv = label_vector(label)
        if qv is not None:
            semantic = vectors @ qv
    out = []
    for i, entry in enumerate(entries):
        in_label = [w for w in query if w in labels[i]]
        in_tags = [w for w in query if w not in labels[i] and w in tags[i]]
        words = (sum(idf[w] for w in in_label) + 0.5 * sum(idf[w] for w in in_tags)) / total
        reasons = []
        if in_label or in_tags:
            reasons.append("shares " + ", ".join(repr(w) for w in in_label + in_tags))
        bonus = 0.0
        if ucs is not None and ucs_words:
            if entry.catid == ucs.catid:
                bonus = 0.3
                reasons.append(f"is UCS {ucs.catid}")
            elif labels[i] & ucs_words:
                bonus = 0.15
                reasons.append(f"is a synonym in UCS {ucs.catid}")
        lexical = min(1.0, words + bonus)
        if semantic is None:
            score = lexical
        else:
            cosine = float(semantic[i])
            meaning = float(np.clip((cosine - COSINE_FLOOR) / (COSINE_CEILING - COSINE_FLOOR), 0.0, 1.0))
            if cosine >= 0.6:
                reasons.append(f"means much the same (cosine {cosine:.2f})")
            score = 0.5 * lexical + 0.5 * meaning
        if score > 0:
            out.append(Hit(entry, score, f"'{entry.label}' " + ("; ".join(reasons) or "is the closest match")))
    out.sort(key=lambda c: (-c.score, c.entry.path))
    return out[:limit]
