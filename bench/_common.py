"""Shared by the bench scripts: the real imitations and the labels a user would type."""

from __future__ import annotations

import os
from pathlib import Path

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
