"""How closely results follow their takes, on three differently made sets of takes.

Sets: the shared real imitations (/work/shared/data/imitations; onsets marked
by eye, bench/imitation_onsets.csv), espeak-ng takes (spoken onomatopoeia and
legato sung notes, training/voices.py) and synthesised takes (clicks, breathy
swells, legato notes, syllables), both with true onsets. For each set and
engine it prints medians over takes of:

- loudness r: Pearson r of 10 ms levels where either signal is above -50 dBFS;
- follow F1: onsets found in the take against onsets found in the result
  (50 ms), what `sfx gen` ranks by;
- true F1: the take's known onsets against onsets found in the result;
- pitch r: Pearson r of take and result pitch (semitones) over the frames
  voiced in both, for takes with at least 20 such frames (their count beside).

The onset thresholds (``OnsetConfig``) were tuned on the real imitations and
on espeak and synthesised takes made with seed 0 (bench/tune_onsets.py). So
the made sets here default to seed 1: takes never seen in tuning. For the real
imitations each take is also scored "out of fold": with the thresholds picked
by leave-one-out on the other takes (most folds pick the shipped ones; only
takes whose fold differs are generated again). ``--in-sample`` adds the
seed 0 made sets too.

    python bench/follow.py [--takes 40] [--variations 1] [--engines auto,embedded,library] [--in-sample]
                           [--all-recipes] [--level-only-onsets]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import EvalTake, espeak_takes, real_takes, synthetic_takes  # noqa: E402

import sfxcli.analysis as analysis  # noqa: E402
from sfxcli.analysis import OnsetConfig, analyse, onset_f1  # noqa: E402
from sfxcli.errors import SfxError  # noqa: E402
from sfxcli.pipeline import generate  # noqa: E402
from sfxcli.presets import recipe_names  # noqa: E402
from sfxcli.request import GenerateRequest  # noqa: E402

MIN_VOICED_FRAMES = 20


@dataclass(frozen=True)
class Followed:
    loudness_r: float
    follow_f1: float
    true_f1: float | None  # None where the take's onsets are unknown
    pitch_r: float | None  # None with fewer than MIN_VOICED_FRAMES voiced in both


def pitch_correlation(take: np.ndarray, take_rate: int, result: np.ndarray, result_rate: int) -> float | None:
    """Pearson r of the two pitch curves (semitones) over frames voiced in both."""
    a, b = analyse(take, take_rate).pitch_hz, analyse(result, result_rate).pitch_hz
    n = min(len(a), len(b))
    both = (a[:n] > 0) & (b[:n] > 0)
    if both.sum() < MIN_VOICED_FRAMES:
        return None
    x, y = np.log2(a[:n][both]), np.log2(b[:n][both])
    if x.std() < 1e-9 or y.std() < 1e-9:
        return None
    return float(np.corrcoef(x, y)[0, 1])


@contextlib.contextmanager
def onset_thresholds(config: OnsetConfig) -> Iterator[None]:
    """Every analysis in this block detects onsets with CONFIG (the pipeline's and the scoring's alike)."""
    saved = analysis.DEFAULT_ONSET_CONFIG
    analysis.DEFAULT_ONSET_CONFIG = config
    try:
        yield
    finally:
        analysis.DEFAULT_ONSET_CONFIG = saved


def follow(take: EvalTake, engine: str, folder: Path, variations: int, preset: str | None = None) -> Followed | None:
    """Generate from TAKE and measure the best result; None when the engine cannot serve the label."""
    path = folder / "take.wav"
    sf.write(path, take.samples, take.sample_rate, subtype="FLOAT")
    request = GenerateRequest(imitation=path, label=take.label, project=folder, variations=variations, seed=1,
                              engine=engine, preset=preset)
    try:
        generation = generate(request)
    except SfxError:
        return None
    best = generation.results[0]
    audio, rate = sf.read(best.path, always_2d=True)
    span = audio.mean(axis=1)[: int(round(len(take.samples) / take.sample_rate * rate))]
    true_f1 = None
    if take.onsets_seconds is not None:
        true_f1 = onset_f1(take.onsets_seconds, analyse(span, rate).onsets_seconds)
    return Followed(best.score.loudness_r, best.score.onset_f1, true_f1,
                    pitch_correlation(take.samples, take.sample_rate, span, rate))


def _median(values: list[float | None]) -> str:
    known = [v for v in values if v is not None]
    return f"{np.median(known):.3f}" if known else "  -  "


def line(name: str, rows: list[Followed | None], seconds: float) -> str:
    done = [r for r in rows if r is not None]
    voiced = [r.pitch_r for r in done if r.pitch_r is not None]
    if not done:
        return f"{name:28s} no take served"
    return (f"{name:28s} {_median([r.loudness_r for r in done]):>7s} {_median([r.follow_f1 for r in done]):>7s} "
            f"{_median([r.true_f1 for r in done]):>7s} {_median(list(voiced)):>7s} ({len(voiced):2d})"
            f"  {len(done):3d}/{len(rows):<3d} min r {min(r.loudness_r for r in done):.2f}  [{seconds:.0f} s]")


def out_of_fold(takes: list[EvalTake], configs: list[OnsetConfig], rows: list[Followed | None], engine: str,
                folder: Path, variations: int) -> list[Followed | None]:
    """ROWS again with each real take's leave-one-out thresholds CONFIGS (only takes whose fold differs are redone)."""
    redone = list(rows)
    for i, config in enumerate(configs):
        if config != analysis.DEFAULT_ONSET_CONFIG:
            with onset_thresholds(config):
                redone[i] = follow(takes[i], engine, folder, variations)
    return redone


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--takes", type=int, default=40, help="espeak-ng and synthesised takes in each made set")
    parser.add_argument("--variations", type=int, default=1)
    parser.add_argument("--engines", default="auto,embedded,library")
    parser.add_argument("--sets", default="real,espeak,synthetic")
    parser.add_argument("--in-sample", action="store_true", help="also the made sets the thresholds were tuned on")
    parser.add_argument("--all-recipes", action="store_true", help="every recipe on every real imitation")
    parser.add_argument("--level-only-onsets", action="store_true",
                        help="detect onsets with the level-only thresholds sfx had before (for before/after figures)")
    args = parser.parse_args()
    if args.level_only_onsets:
        from tune_onsets import LEVEL_ONLY

        analysis.DEFAULT_ONSET_CONFIG = LEVEL_ONLY
        print("onsets: the level-only thresholds sfx had before")
    engines = args.engines.split(",")
    sets: dict[str, list[EvalTake]] = {}
    wanted = args.sets.split(",")
    if "real" in wanted:
        sets["real"] = real_takes()
    seeds = [1, 0] if args.in_sample else [1]
    for seed in seeds:
        tag = "held-out takes" if seed == 1 else "tuning takes"
        if "espeak" in wanted:
            sets[f"espeak ({tag})"] = espeak_takes(args.takes, seed)
        if "synthetic" in wanted:
            sets[f"synthetic ({tag})"] = synthetic_takes(args.takes, seed)
    print(f"{args.variations} variation(s) each; medians over takes; follow F1: take's onsets against result's; "
          f"true F1: known onsets against result's")
    print(f"{'set / engine':28s} {'loud r':>7s} {'fol F1':>7s} {'true F1':>7s} {'pitch r':>7s} (n)  served")
    folds: list[OnsetConfig] = []
    if "real" in sets and all(t.onsets_seconds is not None for t in sets["real"]) and not args.level_only_onsets:
        from tune_onsets import fold_configs

        start = time.perf_counter()
        folds = fold_configs(sets["real"])
        differ = sum(c != analysis.DEFAULT_ONSET_CONFIG for c in folds)
        print(f"leave-one-out thresholds for the real takes: {differ} of {len(folds)} folds differ from the shipped "
              f"ones [{time.perf_counter() - start:.0f} s]")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for set_name, takes in sets.items():
            print(f"{set_name}: {len(takes)} takes")
            for engine in engines:
                start = time.perf_counter()
                rows = [follow(t, engine, folder, args.variations) for t in takes]
                print(line(f"  {engine}", rows, time.perf_counter() - start), flush=True)
                if set_name == "real" and folds:
                    start = time.perf_counter()
                    rows = out_of_fold(takes, folds, rows, engine, folder, args.variations)
                    print(line(f"  {engine}, out of fold", rows, time.perf_counter() - start), flush=True)
        if args.all_recipes:
            print(f"{'recipe (real imitations)':28s}")
            takes = real_takes()
            for name in recipe_names():
                start = time.perf_counter()
                rows = [follow(t, "embedded", folder, args.variations, preset=name) for t in takes]
                print(line(f"  {name}", rows, time.perf_counter() - start), flush=True)


if __name__ == "__main__":
    main()
