"""The library engine: the built-in library's size and coverage, label matching, indexing speed, generation time,
and how closely it follows.

- the built-in library: recordings, size on disk, UCS top-level coverage (categories with at least 3
  recordings, and those missing), and label -> recording matching on held-out recordings: 20% of the
  recordings are held out (seeded), each is looked up among the other 80% by its own label and by a
  paraphrase (its head word replaced by a UCS synonym of its CatID), and the best hit counts when it
  has the same UCS CatID, or the same top-level category; the rate of the most common category is the
  floor a constant guess would reach;
- indexes a synthesised library of N short files (default 10,000) from
  scratch, then again with nothing changed, then after touching 1%;
- times `sfx gen` on the 3 s example with 4 variations on the built-in library;
- prints median loudness r and onset F1 over the shared imitations with the
  library engine forced (labels the built-in library knows).

    python bench/library.py [--files 10000] [--builtin-only]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, imitation_files  # noqa: E402

from sfxcli.labels import fold, tokens, ucs_categories  # noqa: E402
from sfxcli.library.index import update_index  # noqa: E402
from sfxcli.library.lookup import lookup  # noqa: E402
from sfxcli.library.store import DEFAULT_LIBRARY, open_library  # noqa: E402
from sfxcli.pipeline import generate  # noqa: E402
from sfxcli.request import GenerateRequest  # noqa: E402

WORDS = ["door", "creak", "slam", "glass", "metal", "hit", "wind", "rain", "fire", "engine", "whoosh", "dog", "bark"]


def paraphrase(label: str, catid: str, synonyms: dict[str, tuple[str, ...]]) -> str:
    """The label with its head (last) word replaced by the first UCS synonym of its CatID that it does not
    already use; the words reversed when the CatID has none."""
    words = fold(label).split()
    used = set(tokens(label))
    for synonym in synonyms.get(catid, ()):
        if synonym and not set(tokens(synonym)) & used:
            return " ".join(words[:-1] + [fold(synonym)])
    return " ".join(reversed(words))


def builtin_library(held_out_share: float = 0.2, seed: int = 0) -> None:
    library = open_library(DEFAULT_LIBRARY, refresh=True)
    entries = library.entries
    size = sum(p.stat().st_size for p in DEFAULT_LIBRARY.iterdir() if p.is_file())
    audio = sum(p.stat().st_size for p in DEFAULT_LIBRARY.glob("*.ogg"))
    print(f"built-in library: {len(entries)} recordings, {sum(e.duration_seconds for e in entries) / 60:.1f} min, "
          f"{size / 1e6:.1f} MB on disk ({audio / 1e6:.1f} MB audio)")
    categories = ucs_categories()
    category_of = {c.catid: c.category for c in categories}
    synonyms = {c.catid: c.synonyms for c in categories}
    counts: dict[str, int] = {}
    for entry in entries:
        if entry.catid in category_of:
            counts[category_of[entry.catid]] = counts.get(category_of[entry.catid], 0) + 1
    names = sorted({c.category for c in categories})
    covered = [n for n in names if counts.get(n, 0) >= 3]
    print(f"UCS coverage: {len(covered)}/{len(names)} top-level categories with >= 3 recordings "
          f"({100 * len(covered) / len(names):.0f}%); {sum(1 for e in entries if e.catid in category_of)} recordings "
          f"have a CatID")
    print("  missing or under 3: " + ", ".join(f"{n} ({counts.get(n, 0)})" for n in names if n not in covered))

    rng = np.random.default_rng(seed)
    labelled = [i for i, e in enumerate(entries) if e.catid in category_of]
    held = set(rng.choice(labelled, size=int(held_out_share * len(labelled)), replace=False).tolist())
    keep = [i for i in range(len(entries)) if i not in held]
    rest = [entries[i] for i in keep]
    vectors = library.vectors[keep] if library.vectors is not None else None
    floor = max(counts.values()) / sum(counts.values())
    for form in ("label", "paraphrase"):
        same_catid = same_category = 0
        for i in sorted(held):
            entry = entries[i]
            query = entry.label if form == "label" else paraphrase(entry.label, entry.catid, synonyms)
            hits = lookup(query, rest, vectors, limit=1)
            if hits and hits[0].entry.catid == entry.catid:
                same_catid += 1
            if hits and category_of.get(hits[0].entry.catid) == category_of[entry.catid]:
                same_category += 1
        n = len(held)
        print(f"held-out label matching by {form} ({n} of {len(labelled)} recordings held out, seed {seed}): "
              f"best hit same CatID {same_catid / n:.3f}, same category {same_category / n:.3f} "
              f"(most common category alone {floor:.3f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10000)
    parser.add_argument("--builtin-only", action="store_true", help="only the built-in library's figures")
    args = parser.parse_args()
    builtin_library()
    if args.builtin_only:
        return
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["SFX_CACHE"] = str(Path(tmp) / "cache")
        root = Path(tmp) / "lib"
        rng = np.random.default_rng(0)
        clip = (0.2 * rng.standard_normal(4800)).astype(np.float32)
        for i in range(args.files):
            folder = root / f"{WORDS[i % len(WORDS)]}s" / f"batch{i // 500}"
            folder.mkdir(parents=True, exist_ok=True)
            name = f"{WORDS[(i * 7) % len(WORDS)]}_{WORDS[(i * 3) % len(WORDS)]}_{i:05d}.wav"
            sf.write(folder / name, clip, 48000)
        start = time.perf_counter()
        entries, _ = update_index(root)
        first = time.perf_counter() - start
        start = time.perf_counter()
        update_index(root)
        again = time.perf_counter() - start
        touched = list(root.rglob("*.wav"))[:: 100]
        for path in touched:
            sf.write(path, clip[:2400], 48000)
        start = time.perf_counter()
        _, report = update_index(root)
        partial = time.perf_counter() - start
        print(f"index {len(entries)} files: {first:.2f} s from scratch ({len(entries) / first:.0f} files/s), "
              f"{again:.2f} s unchanged, {partial:.2f} s after changing {report.updated}")

        sfx = str(Path(sys.executable).parent / "sfx")
        project = Path(tmp) / "project"
        project.mkdir()
        times = []
        for _ in range(5):
            start = time.perf_counter()
            subprocess.run([sfx, "gen", str(REPO / "examples" / "hum.wav"), "door creak", "-n", "4", "-q",
                            "--engine", "library", "--project", str(project)], check=True, capture_output=True)
            times.append(time.perf_counter() - start)
        print(f"sfx gen --engine library, 3 s imitation, 4 variations: median {statistics.median(times):.3f} s")

        labels = ["door creak", "explosion", "cow", "rain", "laser", "thunder", "bird", "wind"]
        rs, f1s = [], []
        for i, path in enumerate(imitation_files()):
            result = generate(GenerateRequest(imitation=path, label=labels[i % len(labels)], project=project,
                                              variations=1, seed=1, engine="library"))
            rs.append(result.results[0].score.loudness_r)
            f1s.append(result.results[0].score.onset_f1)
        print(f"library engine on {len(rs)} real imitations: median loudness r {np.median(rs):.3f} "
              f"(min {np.min(rs):.3f}), median onset F1 {np.median(f1s):.3f}")


if __name__ == "__main__":
    main()
