"""Build the small default library shipped with sfx from a labelled sound collection.

    python -m sfxcli.library.curate ../shared/data/sfx sfxcli/data/library

Keeps CC0 and CC BY recordings (CC BY-SA and unclear licences are left out),
drops music loops and instrument notes, converts each to mono Ogg Vorbis at
44.1 kHz, at most 8 s, and writes ``manifest.csv`` (labels, licences,
authors, sources: the index reads it) and ``CREDITS.md`` for attribution.
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

import numpy as np

MAX_SECONDS = 8.0
RATE = 44100
EXCLUDE = re.compile(r"^(loop|guit|piano|bass |tabla|sn |bd |elec (hi|lo|mid|filt) snare|glitch bass|mehackit phone)", re.I)


def licence_of(text: str) -> str | None:
    if "SA" in text or "ShareAlike" in text or "per-mod" in text or "see " in text:
        return None
    if "CC0" in text or "Zero" in text:
        return "CC0"
    if text in ("CC BY 3.0", "Creative Commons Attribution 3.0 Unported"):
        return "CC BY 3.0"
    if text == "CC BY":
        return "CC BY"
    return None


def slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")[:48] or "sound"


def main(source: Path, dest: Path) -> None:
    import soundfile as sf

    from sfxcli.analysis import resample

    rows = list(csv.DictReader(open(source / "manifest.csv", newline="", encoding="utf-8")))
    dest.mkdir(parents=True, exist_ok=True)
    kept = []
    used: dict[str, int] = {}
    for row in rows:
        licence = licence_of(row["license"])
        label = re.sub(r"^(default|doors|env sounds|xpanes|carts|fire|tnt|misc|perc|ambi|Toyland|Tropical):?\s+", "",
                       row["label"].strip(), flags=re.I)
        if licence is None or EXCLUDE.match(label):
            continue
        try:
            audio, rate = sf.read(source / row["path"], dtype="float64", always_2d=True)
        except (sf.LibsndfileError, RuntimeError):
            continue
        mono = audio.mean(axis=1)[: int(MAX_SECONDS * rate)]
        if len(mono) < 0.05 * rate or np.max(np.abs(mono)) < 1e-3:
            continue
        mono = resample(mono, rate, RATE)
        mono = mono / max(np.max(np.abs(mono)), 1e-9) * 0.89
        name = slug(label)
        used[name] = used.get(name, 0) + 1
        file = f"{name}-{used[name]:02d}.ogg"
        fade = min(len(mono), int(0.01 * RATE))
        mono[-fade:] *= np.linspace(1, 0, fade)
        sf.write(dest / file, mono, RATE, format="OGG", subtype="VORBIS")
        kept.append({"path": file, "label": label, "license": licence, "author": row["author"], "source": row["source"]})
    with open(dest / "manifest.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["path", "label", "license", "author", "source"])
        writer.writeheader()
        writer.writerows(kept)
    lines = ["# Credits for the default library", "",
             "Recordings converted to mono Ogg Vorbis (44.1 kHz, at most 8 s, peak-normalised).", "",
             "| file | label | licence | author | source |", "|---|---|---|---|---|"]
    lines += [f"| {k['path']} | {k['label']} | {k['license']} | {k['author']} | {k['source']} |" for k in kept]
    (dest / "CREDITS.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(kept)} recordings in {dest}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
