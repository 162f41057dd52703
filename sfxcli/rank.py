"""Score how closely a result follows its imitation, and order candidates by it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sfxcli.analysis import analyse, loudness_correlation, onset_f1


@dataclass(frozen=True)
class Score:
    loudness_r: float  # Pearson r of 10 ms levels where either is above -50 dBFS
    onset_f1: float  # onset agreement within 50 ms
    total: float

    def as_dict(self) -> dict[str, float]:
        return {"loudness_r": round(self.loudness_r, 4), "onset_f1": round(self.onset_f1, 4), "total": round(self.total, 4)}


def score(imitation: np.ndarray, imitation_rate: int, imitation_onsets: np.ndarray, result: np.ndarray,
          result_rate: int) -> Score:
    """Compare a result with the imitation (its samples and onset times) over the imitation's duration."""
    span = result[: int(round(len(imitation) / imitation_rate * result_rate))]
    r = loudness_correlation(imitation, span, imitation_rate, result_rate)
    f1 = onset_f1(imitation_onsets, analyse(span, result_rate).onsets_seconds)
    return Score(r, f1, 0.6 * max(r, 0.0) + 0.4 * f1)


def order(scores: list[Score]) -> list[int]:
    """Indices of candidates, best first; ties keep render order."""
    return sorted(range(len(scores)), key=lambda i: (-scores[i].total, i))
