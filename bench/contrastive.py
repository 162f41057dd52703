"""The contrastive match model: retrieval on the real imitations, and search speed on a large library.

1. Each real imitation in ../shared/data/imitations that has a reference of
   its own (2 share their exact label with a reference, 9 are logged
   imitation -> reference pairs without labels) is ranked against all 64
   reference sounds there. Printed: MRR and recall@1/5/10 for imitation-only, label-only and
   fused queries (the label as a user would type it, from the reference's
   AudioSet name), for `sfx search`'s scoring (model plus query-by-example),
   and the random expectation.
2. A synthesised library of N files (default 10,000): indexing (features of
   every file, cold, then unchanged) and the time of one search over it.

    python bench/contrastive.py [--model PATH] [--files 10000]
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import IMITATIONS  # noqa: E402

from sfxcli.audio import read_imitation, read_sound  # noqa: E402


def user_label(audioset: str) -> str:
    """'Animal_Domestic animals_pets_Cat_Growling' -> 'cat growling'; 'door closing (everyday)' -> 'door closing'."""
    text = re.sub(r"\(.*?\)", "", audioset).strip()
    parts = [p for p in text.split("_") if p.strip()]
    return " ".join(parts[-2:] if len(parts) > 1 else parts).lower()


def queries() -> tuple[list[tuple[Path, str | None, int]], list[Path], list[str]]:
    """(imitation, label or None, index of its reference) and the candidate references with their labels."""
    rows = list(csv.DictReader(open(IMITATIONS / "manifest.csv")))
    references = [r for r in rows if r["kind"] == "reference"]
    candidates = [IMITATIONS / r["path"] for r in references]  # the logged pairs' references are among them
    labels = [user_label(r["label"]) for r in references]
    out: list[tuple[Path, str | None, int]] = []
    for row in rows:
        if row["kind"] == "imitation" and row["label"]:
            same = [i for i, r in enumerate(references) if r["label"] == row["label"]]
            if same:
                out.append((IMITATIONS / row["path"], user_label(row["label"]), same[0]))
    for pair in csv.DictReader(open(IMITATIONS / "unlabeled_logged_pairs" / "pairs.csv")):
        imitation = next((IMITATIONS / "unlabeled_logged_pairs").glob(f"{pair['imitation_file_prefix']}*imitation.wav"))
        reference = next(i for i, p in enumerate(candidates) if p.name.startswith(pair["reference_file_prefix"]))
        out.append((imitation, None, reference))
    return out, candidates, labels


def metrics(ranks: list[int]) -> str:
    r = np.array(ranks)
    return (f"MRR {np.mean(1 / r):.3f}  R@1 {np.mean(r <= 1):.2f}  R@5 {np.mean(r <= 5):.2f}  "
            f"R@10 {np.mean(r <= 10):.2f}  (n={len(r)})")


def retrieval(model_path: Path | None) -> None:
    from sfxcli.match import load, match_scores, model_scores, sound_features

    model = load(model_path)
    items, candidates, _ = queries()
    features = np.stack([sound_features(model, *read_sound(p)) for p in candidates])
    print(f"{len(items)} real imitations ranked against {len(candidates)} reference sounds (model {model.path})")
    random = np.mean([np.mean(1 / np.arange(1, len(candidates) + 1))])
    print(f"  random                 MRR {random:.3f}")
    labelled = [(p, label, t) for p, label, t in items if label]
    for name, subset, use_label, use_audio, scorer in (
        ("imitation only", items, False, True, model_scores),
        ("label only", labelled, True, False, model_scores),
        ("fused (label + take)", labelled, True, True, model_scores),
        ("imitation, sfx search", items, False, True, match_scores),
        ("fused, sfx search", labelled, True, True, match_scores),
    ):
        ranks = []
        for path, label, target in subset:
            take = read_imitation(path)
            scores = scorer(model, label if use_label else None, (take.samples, take.sample_rate) if use_audio else None,
                            features)
            ranks.append(int(1 + np.sum(scores > scores[target])))
        print(f"  {name:22s} {metrics(ranks)}")


def speed(files: int) -> None:
    from sfxcli.library.sounds import library_features
    from sfxcli.library.store import open_library
    from sfxcli.match import load, match_scores, sound_features

    model = load()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["SFX_CACHE"] = str(Path(tmp) / "cache")
        root = Path(tmp) / "library"
        for i in range(files):
            folder = root / f"{i // 500:03d}"
            folder.mkdir(parents=True, exist_ok=True)
            n = int(rng.integers(4000, 16000))
            t = np.arange(n) / 16000
            audio = 0.3 * np.sin(2 * np.pi * rng.uniform(80, 2000) * t) * np.exp(-t * rng.uniform(1, 20))
            sf.write(folder / f"sound_{i:05d}.wav", audio + 0.01 * rng.standard_normal(n), 16000)
        encode = lambda x, sr: sound_features(model, x, sr)  # noqa: E731
        start = time.perf_counter()
        library = open_library(root)
        vectors, _ = library_features(library, encode)
        cold = time.perf_counter() - start
        start = time.perf_counter()
        library = open_library(root, refresh=True)
        library_features(library, encode)
        warm = time.perf_counter() - start
        take = read_imitation(Path(__file__).resolve().parent.parent / "examples" / "hum.wav")
        start = time.perf_counter()
        scores = match_scores(model, "door creak", (take.samples, take.sample_rate), vectors)
        np.argsort(scores)[::-1][:10]
        search = time.perf_counter() - start
    print(f"{files} synthesised files: indexing {cold:.1f} s cold ({files / cold:.0f} files/s), "
          f"{warm:.2f} s unchanged; one search over them {search * 1000:.0f} ms (query encoding included)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="a model.safetensors (default: the shipped one)")
    parser.add_argument("--files", type=int, default=10000)
    args = parser.parse_args()
    retrieval(args.model)
    if args.files:
        speed(args.files)


if __name__ == "__main__":
    main()
