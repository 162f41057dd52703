"""The library engine: the built-in library's size and coverage, label matching, indexing speed, generation time,
how closely it follows, and what following does to attacks.

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
  library engine forced (labels the built-in library knows), and the embedded
  engine's on the same takes and labels;
- with ``--tune``, chooses the event gate (which stretches of a take get a
  recording) by leave-one-out over the shared imitations: for each take, the
  gate with the best mean following score (0.6 r + 0.4 F1) on the others,
  scored on that take; prints held-out and in-sample figures;
- on impulsive recordings (door knock, gunshot, footsteps) played on every
  shared imitation, measures each placed attack before and after the
  envelope follow: the steepest rise of the 1 ms envelope (dB per ms) from
  2 ms before to 20 ms after it, the crest factor of its first 30 ms, and how
  much the follow reshaped its first 20 ms (mean absolute deviation, in dB,
  of the after/before level difference from its median: 0 when the follow's
  gain stays constant across the attack), with the share of the follow's gain
  movement the engine lets through across attacks and with others (1: none
  spared, 0: gain held), and how closely those results follow their takes.

    python bench/library.py [--files 10000] [--builtin-only] [--follow-only] [--tune]
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

from sfxcli.analysis import analyse, controls_from_curves, frame_loudness_db  # noqa: E402
from sfxcli.audio import read_imitation  # noqa: E402
from sfxcli.dsp import mono_sum  # noqa: E402
from sfxcli.engines import library as library_engine  # noqa: E402
from sfxcli.engines.choice import LIBRARY_ATTACK_FOLLOW, Resident, choose_engine  # noqa: E402
from sfxcli.labels import fold, tokens, ucs_categories  # noqa: E402
from sfxcli.library.index import update_index  # noqa: E402
from sfxcli.library.lookup import lookup  # noqa: E402
from sfxcli.library.store import DEFAULT_LIBRARY, open_library  # noqa: E402
from sfxcli.match import Unavailable  # noqa: E402
from sfxcli.pipeline import generate  # noqa: E402
from sfxcli.post import Finish, PostConfig, apply_fx, finish, follow_envelope  # noqa: E402
from sfxcli.presets import load_fx, load_recipe  # noqa: E402
from sfxcli.rank import score  # noqa: E402
from sfxcli.request import GenerateRequest  # noqa: E402

WORDS = ["door", "creak", "slam", "glass", "metal", "hit", "wind", "rain", "fire", "engine", "whoosh", "dog", "bark"]
LABELS = ["door creak", "explosion", "cow", "rain", "laser", "thunder", "bird", "wind"]
IMPULSIVE = ["door knock", "gunshot", "footsteps"]
GATES = [library_engine.EventGate(floor_db=floor, min_seconds=shortest)
         for floor in (None, -42.0) for shortest in (0.01, 0.02, 0.04)]


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
    parser.add_argument("--follow-only", action="store_true", help="only the following and attack figures")
    parser.add_argument("--tune", action="store_true", help="also choose the event gate by leave-one-out")
    args = parser.parse_args()
    if not args.follow_only:
        builtin_library()
        if args.builtin_only:
            return
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["SFX_CACHE"] = str(Path(tmp) / "cache")
        project = Path(tmp) / "project"
        project.mkdir()
        if not args.follow_only:
            speed(Path(tmp), project, args.files)
        takes = imitation_files()
        for engine in ("library", "embedded"):
            rs, f1s = following(takes, engine, project)
            print(f"{engine} engine on {len(rs)} real imitations: median loudness r {np.median(rs):.3f} "
                  f"(mean {np.mean(rs):.3f}, min {np.min(rs):.3f}), median onset F1 {np.median(f1s):.3f} "
                  f"(mean {np.mean(f1s):.3f})")
        if args.tune:
            tune_gate(takes, project)
        attacks(takes)


def speed(tmp: Path, project: Path, files: int) -> None:
    root = tmp / "lib"
    rng = np.random.default_rng(0)
    clip = (0.2 * rng.standard_normal(4800)).astype(np.float32)
    for i in range(files):
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
    times = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run([sfx, "gen", str(REPO / "examples" / "hum.wav"), "door creak", "-n", "4", "-q",
                        "--engine", "library", "--project", str(project)], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    print(f"sfx gen --engine library, 3 s imitation, 4 variations: median {statistics.median(times):.3f} s")


def following(takes: list[Path], engine: str, project: Path) -> tuple[list[float], list[float]]:
    """Loudness r and onset F1 of one seeded result per take, labels taken in turn from LABELS."""
    rs, f1s = [], []
    for i, path in enumerate(takes):
        result = generate(GenerateRequest(imitation=path, label=LABELS[i % len(LABELS)], project=project,
                                          variations=1, seed=1, engine=engine))
        rs.append(result.results[0].score.loudness_r)
        f1s.append(result.results[0].score.onset_f1)
    return rs, f1s


def tune_gate(takes: list[Path], project: Path) -> None:
    """Leave-one-out choice of the library engine's event gate among GATES."""
    chosen = library_engine.EVENT_GATE
    r = np.zeros((len(GATES), len(takes)))
    f1 = np.zeros_like(r)
    try:
        for g, gate in enumerate(GATES):
            library_engine.EVENT_GATE = gate
            r[g], f1[g] = following(takes, "library", project)
            print(f"  gate floor {gate.floor_db} dB, shortest {gate.min_seconds:g} s: median r {np.median(r[g]):.3f} "
                  f"(mean {r[g].mean():.3f}, min {r[g].min():.3f}), median F1 {np.median(f1[g]):.3f} "
                  f"(mean {f1[g].mean():.3f})")
    finally:
        library_engine.EVENT_GATE = chosen
    total = 0.6 * np.maximum(r, 0.0) + 0.4 * f1
    held_r, held_f1, picks = [], [], []
    for i in range(len(takes)):
        others = [j for j in range(len(takes)) if j != i]
        best = int(np.argmax(total[:, others].mean(axis=1)))
        picks.append(best)
        held_r.append(r[best, i])
        held_f1.append(f1[best, i])
    best = int(np.argmax(total.mean(axis=1)))
    counts = ", ".join(f"{GATES[g].floor_db}/{GATES[g].min_seconds:g} s x{picks.count(g)}" for g in sorted(set(picks)))
    print(f"event gate, leave-one-out over {len(takes)} takes (chosen: {counts}): held-out median loudness r "
          f"{np.median(held_r):.3f} (mean {np.mean(held_r):.3f}), median onset F1 {np.median(held_f1):.3f} "
          f"(mean {np.mean(held_f1):.3f}); in-sample (floor {GATES[best].floor_db}, shortest "
          f"{GATES[best].min_seconds:g} s) median r {np.median(r[best]):.3f} (mean {r[best].mean():.3f}), "
          f"median F1 {np.median(f1[best]):.3f} (mean {f1[best].mean():.3f}); the engine uses {chosen}")


def attacks(takes: list[Path]) -> None:
    """Each placed attack of an impulsive recording, before and after the envelope follow, for a few shares of
    the follow's gain movement let through across attacks (the engine's first); and how closely each follows."""
    shares = (LIBRARY_ATTACK_FOLLOW,) + tuple(s for s in (1.0, 0.5, 0.25, 0.0) if s != LIBRARY_ATTACK_FOLLOW)
    before: list[tuple[float, float, np.ndarray]] = []
    after: dict[float, list[tuple[float, float, np.ndarray]]] = {share: [] for share in shares}
    scores: dict[float, list[tuple[float, float]]] = {share: [] for share in shares}
    recipe = load_recipe("whoosh")
    for i, path in enumerate(takes):
        imitation = read_imitation(path)
        curves = analyse(imitation.samples, imitation.sample_rate)
        controls = controls_from_curves(curves)
        request = GenerateRequest(imitation=path, label=IMPULSIVE[i % len(IMPULSIVE)], engine="library", seed=1)
        choice = choose_engine(request, (imitation.samples, imitation.sample_rate), Unavailable("bench"), Resident())
        rate = request.sample_rate
        render = choice.engine.render(controls, recipe, 1, rate, imitation.duration_seconds + 0.5)
        chains = [load_fx(name) for name in choice.fx]
        wet = apply_fx(render.audio, rate, chains)
        shapes = [attack_shape(wet, rate, attack) for attack in render.attacks_seconds]
        before += [shape for shape in shapes if shape is not None]
        for share in shares:
            followed = follow_envelope(wet, rate, controls.gain, 1.0 if choice.follow is None else choice.follow,
                                       smooth_frames=choice.follow_smoothing, attacks_seconds=render.attacks_seconds,
                                       attack_follow=share)
            after[share] += [attack_shape(followed, rate, attack) for attack, shape in
                             zip(render.attacks_seconds, shapes, strict=True) if shape is not None]
            plan = Finish(chains, controls.gain, 1.0 if choice.follow is None else choice.follow,
                          imitation.duration_seconds, PostConfig(), choice.follow_smoothing, share)
            audio, _ = finish(render.audio, rate, plan, render.attacks_seconds)
            result = score(imitation.samples, imitation.sample_rate, curves.onsets_seconds, mono_sum(audio), rate)
            scores[share].append((result.loudness_r, result.onset_f1))
    if not before:
        print("no attacks placed")
        return
    print(f"{len(before)} attacks of {', '.join(IMPULSIVE)} recordings on {len(takes)} takes, before -> after the "
          f"follow: median steepest 1 ms rise {np.median([b[0] for b in before]):.2f} dB/ms, crest factor "
          f"{np.median([b[1] for b in before]):.2f} dB before")
    for share in shares:
        shaped = after[share]
        reshaped = np.array([reshaping_db(b[2], a[2]) for b, a in zip(before, shaped, strict=True)])
        r, f1 = np.array(scores[share]).T
        print(f"  gain movement let through across attacks {share:g}{' (the engine)' if share == shares[0] else ''}: "
              f"rise {np.median([a[0] for a in shaped]):.2f} dB/ms, crest {np.median([a[1] for a in shaped]):.2f} dB, "
              f"first 20 ms reshaped by median {np.median(reshaped):.2f} dB (90th percentile "
              f"{np.percentile(reshaped, 90):.2f}); results' median loudness r {np.median(r):.3f} (mean {r.mean():.3f}), "
              f"median onset F1 {np.median(f1):.3f} (mean {f1.mean():.3f})")


def attack_shape(audio: np.ndarray, sample_rate: int, attack_seconds: float) -> tuple[float, float, np.ndarray] | None:
    """(steepest rise of the 1 ms level in dB/ms, crest factor of the first 30 ms in dB, the 1 ms levels) of one
    attack: the levels run from 2 ms before it to 20 ms after, floored 40 dB under their loudest."""
    mono = mono_sum(audio)
    levels = frame_loudness_db(mono, sample_rate, 1000)
    first = int(round(attack_seconds * 1000)) - 2
    window = levels[max(first, 0) : first + 23]
    head = mono[int(attack_seconds * sample_rate) : int((attack_seconds + 0.03) * sample_rate)]
    if first < 0 or len(window) < 23 or not np.any(head):
        return None
    window = np.maximum(window, window.max() - 40.0)
    crest = 20 * np.log10(np.abs(head).max() / np.sqrt(np.mean(head**2)))
    return float(np.max(np.diff(window))), float(crest), window


def reshaping_db(before: np.ndarray, after: np.ndarray) -> float:
    """How far the follow bent one attack's level contour: mean |after - before - median| over its loud part."""
    loud = before > before.max() - 30.0
    difference = (after - before)[loud]
    return float(np.mean(np.abs(difference - np.median(difference))))


if __name__ == "__main__":
    main()
