"""Score how closely a result follows its imitation and how well it matches the query, and order candidates.

Following (loudness contour and onsets) is measured directly; matching "this
imitation, called this" comes from the contrastive model
(``sfxcli.match``). Candidates are ordered by following plus
MATCH_WEIGHT times the match cosine.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from sfxcli.analysis import analyse, loudness_correlation, onset_f1

if TYPE_CHECKING:
    from sfxcli.match import Query, Unavailable


@dataclass(frozen=True)
class Score:
    loudness_r: float  # Pearson r of 10 ms levels where either is above -50 dBFS
    onset_f1: float  # onset agreement within 50 ms
    total: float  # how well it follows: 0.6 r + 0.4 F1
    match: float | None = None  # contrastive-model cosine with the query (imitation + label); None when unavailable

    @property
    def rank_value(self) -> float:
        return self.total + MATCH_WEIGHT * (self.match or 0.0)

    def as_dict(self) -> dict[str, float | None]:
        return {"loudness_r": round(self.loudness_r, 4), "onset_f1": round(self.onset_f1, 4),
                "total": round(self.total, 4), "match": None if self.match is None else round(self.match, 4)}


MATCH_WEIGHT = 0.5


def score(imitation: np.ndarray, imitation_rate: int, imitation_onsets: np.ndarray, result: np.ndarray,
          result_rate: int) -> Score:
    """Compare a result with the imitation (its samples and onset times) over the imitation's duration."""
    span = result[: int(round(len(imitation) / imitation_rate * result_rate))]
    r = loudness_correlation(imitation, span, imitation_rate, result_rate)
    f1 = onset_f1(imitation_onsets, analyse(span, result_rate).onsets_seconds)
    return Score(r, f1, 0.6 * max(r, 0.0) + 0.4 * f1)


def order(scores: list[Score]) -> list[int]:
    """Indices of candidates, best first; ties keep render order."""
    return sorted(range(len(scores)), key=lambda i: (-scores[i].rank_value, i))


def with_matches(scores: list[Score], query: Query | Unavailable, results: list[np.ndarray],
                 result_rate: int) -> tuple[list[Score], str]:
    """Each score with its result's match to the query; unchanged when there is no match model (and why)."""
    from sfxcli.errors import EngineUnavailableError
    from sfxcli.match import Unavailable

    if isinstance(query, Unavailable):
        return scores, f"ranked by following only ({query.reason})"
    try:
        matches = query.scores(np.stack([query.features(audio, result_rate) for audio in results]))
    except EngineUnavailableError as error:
        return scores, f"ranked by following only ({error.message})"
    return [replace(s, match=float(m)) for s, m in zip(scores, matches, strict=True)], "ranked by following and match"
