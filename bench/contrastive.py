"""The contrastive match model: retrieval on the real imitations, and search speed on a large library.

1. Each real imitation in ../shared/data/imitations that has a reference of
   its own (2 share their exact label with a reference, 9 are logged
   imitation -> reference pairs without labels) is ranked against all 64
   reference sounds there. Printed: MRR and recall@1/5/10 for imitation-only, label-only and
   fused queries (the label as a user would type it, from the reference's
   AudioSet name), for `sfx search`'s scoring (model plus query-by-example),
   and the random expectation.
   Also the likeness (sfxcli/match/embedding.py: the pretrained aisfx
   embedding of the take against each reference's) alone and added to the
   learned cosine at LIKENESS_WEIGHT, as sfx scores.
2. Options, chosen out of fold: each model given (the shipped one, and any
   ``--candidates``), with the likeness added to its cosine at each weight of
   LIKENESS_WEIGHTS, and following (rank.py's score of the take against
   each reference) added to the match at each weight of MATCH_WEIGHTS, or
   not at all. Printed: every option in sample; the option best on all the
   imitations (in sample, optimistic); and the out-of-fold figure of picking
   an option this way, by leave-one-out (training/selection.py): each
   imitation is scored by the option chosen on the other ten. No model here
   was trained on a real imitation.
3. A second, differently made set (``--spoken N``, default 100): espeak-ng
   imitations of built-in recordings from Debian packages the match model
   never trained on, each ranked against all N, by the learned match, the
   likeness and the two added at each weight.
4. A synthesised library of N files (default 10,000): indexing (features of
   every file, cold, then unchanged), the audio embedding's time per file
   (timed on the first 200) and the time of one search over it.

    python bench/contrastive.py [--model PATH] [--candidates A.safetensors ...] [--spoken 100] [--files 10000]
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


MATCH_WEIGHTS = (0.25, 0.5, 1.0, 2.0, 4.0, float("inf"))  # following + w * match; inf: the match alone
LIKENESS_WEIGHTS = (0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, float("inf"))  # match = cosine + w * likeness; inf: likeness alone


def likeness_tables(takes: np.ndarray, sounds: np.ndarray) -> dict[str, np.ndarray]:
    """(takes, sounds): the cosine of each take's standardised audio embedding with each sound's, standardised by
    the built-in library's statistics and by the searched sounds' own (as sfx search does)."""
    from sfxcli.match.embedding import standardise, statistics

    return {name: standardise(takes, stats) @ standardise(sounds, stats).T
            for name, stats in (("built-in", statistics()), ("searched", statistics(sounds)))}


def likeness(items: list[tuple[Path, str | None, int]], candidates: list[Path]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """``likeness_tables`` of the real imitations against the references, and the references' embeddings."""
    from sfxcli.match.embedding import embed

    sounds = np.stack([embed(*read_sound(p)) for p in candidates])
    takes = np.stack([embed(take.samples, take.sample_rate) for take in (read_imitation(path) for path, _, _ in items)])
    return likeness_tables(takes, sounds), sounds


def following(items: list[tuple[Path, str | None, int]], candidates: list[Path]) -> np.ndarray:
    """(items, candidates): how well each reference follows each imitation (rank.score's total)."""
    from sfxcli.analysis import analyse
    from sfxcli.rank import score

    sounds = [read_sound(p) for p in candidates]
    out = np.zeros((len(items), len(candidates)))
    for i, (path, _, _) in enumerate(items):
        take = read_imitation(path)
        onsets = analyse(take.samples, take.sample_rate).onsets_seconds
        for j, (samples, rate) in enumerate(sounds):
            out[i, j] = score(take.samples, take.sample_rate, onsets, samples, rate).total
    return out


def model_cosines(model_path: Path | None, items: list[tuple[Path, str | None, int]],
                  candidates: list[Path]) -> tuple[object, dict[str, np.ndarray]]:
    """The model, and its cosines (items, candidates) for imitation-only, label-only and fused queries (NaN rows: no label)."""
    from sfxcli.match import load, model_scores, sound_features

    model = load(model_path)
    features = np.stack([sound_features(model, *read_sound(p)) for p in candidates])
    out = {kind: np.full((len(items), len(candidates)), np.nan) for kind in ("imitation", "label", "fused")}
    for i, (path, label, _) in enumerate(items):
        take = read_imitation(path)
        audio = (take.samples, take.sample_rate)
        out["imitation"][i] = model_scores(model, None, audio, features)
        if label:
            out["label"][i] = model_scores(model, label, None, features)
            out["fused"][i] = model_scores(model, label, audio, features)
    return model, out


def reciprocal_ranks(scores: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Per row: 1 / rank of its target; NaN for rows of NaN (no such query)."""
    from training.selection import reciprocal_rank

    return np.array([np.nan if np.isnan(row).all() else reciprocal_rank(row, int(t)) for row, t in zip(scores, targets)])


def figures(rr: dict[str, np.ndarray]) -> str:
    """Imitation-only, label-only and fused MRR, and 'as used' (fused where there is a label, else the imitation)."""
    used = np.where(np.isnan(rr["fused"]), rr["imitation"], rr["fused"])
    return (f"imitation {np.nanmean(rr['imitation']):.3f}  label {np.nanmean(rr['label']):.3f}  "
            f"fused {np.nanmean(rr['fused']):.3f}  as used {np.mean(used):.3f}")


def retrieval(model_path: Path | None, candidates_paths: list[Path]) -> None:
    from sfxcli.match import LIKENESS_WEIGHT, match_scores, sound_features
    from training.selection import held_out, leave_one_out, objective

    items, candidates, _ = queries()
    targets = np.array([t for _, _, t in items])
    labelled = np.array([label is not None for _, label, _ in items])
    random = float(np.mean(1 / np.arange(1, len(candidates) + 1)))
    print(f"{len(items)} real imitations ({labelled.sum()} with a label) ranked against {len(candidates)} reference sounds; "
          f"random MRR {random:.3f}")
    model, shipped = model_cosines(model_path, items, candidates)
    print(f"model {model.path}:")  # type: ignore[attr-defined]
    ranks = {kind: [int(round(1 / r)) for r in reciprocal_ranks(shipped[kind], targets) if not np.isnan(r)]
             for kind in shipped}
    for kind, name in (("imitation", "imitation only"), ("label", "label only"), ("fused", "fused (label + take)")):
        print(f"  {name:22s} {metrics(ranks[kind])}")
    likes, embeddings = likeness(items, candidates)
    for stats, like in likes.items():
        ranks = [int(round(1 / r)) for r in reciprocal_ranks(like, targets)]
        print(f"  likeness alone, {stats + ' statistics':20s} {metrics(ranks)}")
        for kind, name in (("imitation", "imitation + likeness"), ("fused", "fused + likeness")):
            found = [int(round(1 / r)) for r in reciprocal_ranks(shipped[kind] + LIKENESS_WEIGHT * like, targets)
                     if not np.isnan(r)]
            print(f"  {name:22s} {metrics(found)}  (LIKENESS_WEIGHT {LIKENESS_WEIGHT:g}, {stats} statistics)")
    features = np.stack([sound_features(model, *read_sound(p)) for p in candidates])  # type: ignore[arg-type]
    for name, use_label in (("imitation, sfx search", False), ("fused, sfx search", True)):
        found = []
        for path, label, target in items:
            if use_label and not label:
                continue
            take = read_imitation(path)
            scores = match_scores(model, label if use_label else None, (take.samples, take.sample_rate), features,  # type: ignore[arg-type]
                                  embeddings)
            found.append(int(1 + np.sum(scores > scores[target])))
        print(f"  {name:22s} {metrics(found)}")

    # options: each model, with following fused in at each weight (rank.py's MATCH_WEIGHT) or not at all
    follow = following(items, candidates)
    names, tables = [], {kind: [] for kind in ("imitation", "label", "fused")}
    for path in [model_path, *candidates_paths]:
        cosines = shipped if path == model_path else model_cosines(path, items, candidates)[1]
        for stats, like_weight in [(k, w) for k in likes for w in LIKENESS_WEIGHTS if w or k == "built-in"]:
            like = likes[stats]
            for weight in MATCH_WEIGHTS:
                names.append(f"{'shipped' if path is None else path.parent.name} l={like_weight:g}"
                             f"{'' if not like_weight else '/' + stats} w={weight:g}")
                for kind in tables:
                    match = cosines[kind]
                    if kind != "label":
                        match = like if like_weight == float("inf") else match + like_weight * like
                    scores = match if kind == "label" or weight == float("inf") else follow + weight * match
                    tables[kind].append(reciprocal_ranks(scores, targets))
    table = {kind: np.array(rows) for kind, rows in tables.items()}
    follow_only = {kind: reciprocal_ranks(follow, targets) if kind != "label" else np.full(len(items), np.nan)
                   for kind in table}
    print(f"following alone (rank.score total)  imitation {np.mean(follow_only['imitation']):.3f}")
    print(f"{len(names)} options (models x following weight), each in sample:")
    for k, name in enumerate(names):
        ranks_text = " ".join(str(int(round(1 / r))) for r in table["imitation"][k])
        print(f"  {name:40s} " + figures({kind: table[kind][k] for kind in table}) + f"  ranks {ranks_text}")
    goal = objective(table["imitation"], table["fused"])

    def select(title: str, keep: np.ndarray) -> None:
        """Leave-one-out choice among the options KEEP; prints the in-sample pick and the out-of-fold figures."""
        kept = np.flatnonzero(keep)
        means = goal[kept].mean(axis=1)
        best = int(kept[int(np.flatnonzero(means >= means.max() - 1e-12)[0])])
        chosen = kept[leave_one_out(goal[kept])]
        oof = {kind: held_out(table[kind], chosen) for kind in table}
        picks = ", ".join(f"{names[c]} x{int(np.sum(chosen == c))}" for c in sorted(set(chosen.tolist())))
        print(f"{title} ({len(kept)} options)\n  in sample, chosen on all {len(items)}: {names[best]:28s} "
              + figures({kind: table[kind][best] for kind in table})
              + f"\n  out of fold (each imitation scored by the option chosen on the other {len(items) - 1}): "
              + figures(oof) + f"\n  chosen: {picks}")

    first = np.array([name.startswith(names[0].split()[0] + " ") for name in names])
    alone = np.array([name.endswith("w=inf") for name in names])
    unlike = np.array([" l=0 " in name for name in names])
    searched = np.array(["/searched" in name for name in names])
    select(f"likeness weight and statistics for {names[0].split()[0]}, the match alone", first & alone)
    select(f"likeness weight for {names[0].split()[0]}, the match alone, searched statistics (LIKENESS_WEIGHT)",
           first & alone & (searched | unlike))
    select(f"following weight for {names[0].split()[0]}, no likeness", first & unlike)
    select(f"following weight for {names[0].split()[0]}, following kept (sfx gen's MATCH_WEIGHT)", first & ~alone & unlike)
    select(f"likeness and following weights for {names[0].split()[0]}", first)
    if len(candidates_paths):
        select("model, by the match alone, no likeness", alone & unlike)
        select("model and likeness weight, the match alone", alone)
        select("model and following weight", np.ones(len(names), dtype=bool))
        select("model and following weight, following kept (as sfx gen needs)", ~alone)


SHARED_SOURCES = ("mod-sounds", "sonic-pi", "scratch", "minetest", "openttd")  # the match model trained on these


def spoken(count: int) -> None:
    """A second, differently made set: espeak-ng imitations (training.data.spoken_imitation) of COUNT built-in
    recordings from Debian packages the match model never trained on, each ranked against all COUNT."""
    from sfxcli.library.store import DEFAULT_LIBRARY
    from sfxcli.match import LIKENESS_WEIGHT, load, model_scores, sound_features
    from sfxcli.match.embedding import embed
    from training.data import spoken_imitation

    rows = [r for r in csv.DictReader(open(DEFAULT_LIBRARY / "manifest.csv", encoding="utf-8"))
            if r["source"].startswith("Debian") and not any(s in r["source"] for s in SHARED_SOURCES)]
    picked = rows[:: max(1, len(rows) // count)][:count]
    model = load()
    sounds = [read_sound(DEFAULT_LIBRARY / r["path"]) for r in picked]
    takes = [spoken_imitation(x, sr, seed=i, label=r["label"]) for i, ((x, sr), r) in enumerate(zip(sounds, picked))]
    features = np.stack([sound_features(model, x, sr) for x, sr in sounds])
    learned = np.stack([model_scores(model, None, (t.audio, t.sample_rate), features) for t in takes])
    sound_vectors = np.stack([embed(x, sr) for x, sr in sounds])
    take_vectors = np.stack([embed(t.audio, t.sample_rate) for t in takes])
    targets = np.arange(len(picked))
    print(f"{len(picked)} espeak-ng imitations of built-in recordings the match model never saw (from "
          f"{len({r['source'].split()[1] for r in picked})} Debian packages), each ranked against all {len(picked)}; "
          f"random MRR {np.mean(1 / np.arange(1, len(picked) + 1)):.3f}")
    print(f"  {'learned match alone':40s} {metrics([int(round(1 / r)) for r in reciprocal_ranks(learned, targets)])}")
    for name, like in likeness_tables(take_vectors, sound_vectors).items():
        print(f"  {'likeness alone, ' + name + ' statistics':40s} "
              f"{metrics([int(round(1 / r)) for r in reciprocal_ranks(like, targets)])}")
        for weight in LIKENESS_WEIGHTS[1:-1]:
            ranks = [int(round(1 / r)) for r in reciprocal_ranks(learned + weight * like, targets)]
            marker = "  <- LIKENESS_WEIGHT" if weight == LIKENESS_WEIGHT else ""
            print(f"  {f'learned + {weight:g} x likeness, {name}':40s} {metrics(ranks)}{marker}")


def speed(files: int) -> None:
    from sfxcli.library.sounds import library_features
    from sfxcli.library.store import open_library
    from sfxcli.match import load, match_scores, sound_features
    from sfxcli.match.embedding import embed

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
        sample = [root / e.path for e in library.entries[:EMBED_SAMPLE]]
        start = time.perf_counter()
        for path in sample:
            embed(*sf.read(path))
        per_file = (time.perf_counter() - start) / len(sample)
        embeddings = np.tile(embed(*sf.read(sample[0])), (len(vectors), 1))  # the search's cost, not its answers
        take = read_imitation(Path(__file__).resolve().parent.parent / "examples" / "hum.wav")
        start = time.perf_counter()
        scores = match_scores(model, "door creak", (take.samples, take.sample_rate), vectors, embeddings)
        np.argsort(scores)[::-1][:10]
        search = time.perf_counter() - start
    print(f"{files} synthesised files: indexing {cold:.1f} s cold ({files / cold:.0f} files/s), "
          f"{warm:.2f} s unchanged; audio embeddings {per_file * 1000:.0f} ms per file (the first {len(sample)}: "
          f"{per_file * files / 60:.1f} min for all, once); one search over them {search * 1000:.0f} ms "
          f"(query encoding and likeness included)")


EMBED_SAMPLE = 200


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="a model.safetensors (default: the shipped one)")
    parser.add_argument("--candidates", type=Path, nargs="*", default=[],
                        help="more model.safetensors files to choose from by leave-one-out on the real imitations")
    parser.add_argument("--files", type=int, default=10000)
    parser.add_argument("--spoken", type=int, default=100, help="espeak-ng imitations of built-in recordings (0: none)")
    args = parser.parse_args()
    retrieval(args.model, args.candidates)
    if args.spoken:
        spoken(args.spoken)
    if args.files:
        speed(args.files)


if __name__ == "__main__":
    main()
