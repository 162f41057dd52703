"""Shared by the bench scripts: the real imitations, the labels a user would type, and the evaluation sets."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parent.parent
IMITATIONS = Path(os.environ.get("SFX_IMITATIONS", REPO.parent / "shared" / "data" / "imitations"))

LABELS = {
    "Cat_Growling": "cat growl", "Dog_Growling": "dog growl", "Applause": "applause", "Sanding": "sanding",
    "Crushing": "crushing", "Whip": "whip", "trumpet": "trumpet playing", "waves_breaking": "waves breaking",
}


def imitation_files() -> list[Path]:
    return sorted(IMITATIONS.glob("imitations/*.wav")) + sorted(IMITATIONS.glob("unlabeled_logged_pairs/*imitation.wav"))


def label_for(path: Path) -> str:
    for key, label in LABELS.items():
        if key in path.name:
            return label
    return "bird chirp" if path.name.startswith("unlabeled") else "whoosh"


# -- evaluation sets: takes with what is known about them ------------------------------------------

ONSET_ANNOTATIONS = Path(__file__).resolve().parent / "imitation_onsets.csv"


@dataclass(frozen=True)
class EvalTake:
    """One take of an evaluation set: its audio, the label a user would type, its onsets where known."""

    name: str
    samples: np.ndarray  # mono
    sample_rate: int
    label: str
    onsets_seconds: np.ndarray | None  # true (or annotated) onsets; None where nobody knows them
    kind: str  # "real", or how the take was made ("spoken", "sung", "legato", ...)


def annotated_onsets() -> dict[str, np.ndarray]:
    """The onsets marked on the shared imitations (file name -> seconds), as bench/imitation_onsets.csv holds them."""
    if not ONSET_ANNOTATIONS.exists():
        return {}
    marks: dict[str, np.ndarray] = {}
    with open(ONSET_ANNOTATIONS, newline="") as handle:
        for row in csv.DictReader(line for line in handle if not line.startswith("#")):
            marks[row["file"]] = np.array(sorted(float(t) for t in row["onsets_seconds"].split()), dtype=np.float64)
    return marks


def real_takes() -> list[EvalTake]:
    """The shared imitations, with the onsets annotated on them."""
    from sfxcli.audio import read_imitation

    marks = annotated_onsets()
    takes = []
    for path in imitation_files():
        imitation = read_imitation(path)
        takes.append(EvalTake(path.name, imitation.samples, imitation.sample_rate, label_for(path),
                              marks.get(path.name), "real"))
    return takes


def espeak_takes(count: int, seed: int = 0) -> list[EvalTake]:
    """COUNT spoken and sung espeak-ng takes (training/voices.py), their true onsets known."""
    from training.voices import take_set

    return [EvalTake(f"espeak-{seed}-{i:03d} {t.text}", t.audio.astype(np.float64), t.sample_rate, t.label,
                     t.onsets_seconds, t.style) for i, t in enumerate(take_set(count, seed))]


def synthetic_takes(count: int, seed: int = 0) -> list[EvalTake]:
    """COUNT synthesised takes (clicks, breathy swells, legato notes, syllables), their onsets exact."""
    from training.voices import synthetic_set

    return [EvalTake(f"synthetic-{seed}-{i:03d} {t.style}", t.audio.astype(np.float64), t.sample_rate, t.label,
                     t.onsets_seconds, t.style) for i, t in enumerate(synthetic_set(count, seed))]
