"""FX matching on held-out pairs: the estimator against the search, random settings and the mean setting.

Held-out pairs are drawn from the sounds the shipped estimator never saw
(its run's held-out split of ../shared/data/sfx) with a seed training never
used. For each method it prints the mean parameter error (absolute, in
normalised units), the level-matched multi-resolution STFT distance (the
distance the estimator's audio loss and the search minimise) and the MFCC
distance of the dry clip through the method's setting to the effected one,
and the seconds each takes per pair. Then the ratios the issue asks for:
estimator distance / search distance and search time / estimator time.

    python bench/fx.py                  # 12 pairs, search budget 3000 renders
    python bench/fx.py --pairs 24 --budget 1000 --model runs/fx
    python bench/fx.py --pipeline       # pair throughput, rejections, the same-sound threshold
    python bench/fx.py --cache /tmp/fx-search.json   # keep the searches, to compare other estimators quickly
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402,F401

from sfxcli.fxmatch.chain import mean_setting, parse_chain, random_setting  # noqa: E402
from sfxcli.fxmatch.distance import mfcc_cosine, mfcc_distance, stft_distance  # noqa: E402
from sfxcli.fxmatch.estimator import estimator_for, load_estimator  # noqa: E402
from sfxcli.fxmatch.search import SearchConfig, refine, search  # noqa: E402
from sfxcli.match.features import RATE  # noqa: E402
from training.data import read_manifest  # noqa: E402
from training.fx import FxTrainConfig, default_manifest, split_sounds  # noqa: E402
from training.fx_pairs import PairConfig, PairStats, load_sounds, pair_batch  # noqa: E402

BENCH_SEED = 9001  # never a training or evaluation seed


def held_out_sounds(config: FxTrainConfig) -> tuple[list[np.ndarray], list[str], list[np.ndarray], list[str]]:
    """(held-out sounds, names, training sounds, names) as ``train_fx`` splits the default manifest."""
    sounds, names, _ = load_sounds([e.sound for e in read_manifest(default_manifest())])
    train, held = split_sounds(len(sounds), config.holdout, config.seed)
    return [sounds[i] for i in held], [names[i] for i in held], [sounds[i] for i in train], [names[i] for i in train]


def compare(args: argparse.Namespace) -> None:
    estimator = load_estimator(args.model) if args.model else estimator_for(parse_chain("eq,compressor,reverb"))
    chain = estimator.chain
    config = FxTrainConfig(chain=chain.name)
    held, names, _, _ = held_out_sounds(config)
    pairs, _ = pair_batch(held, chain, PairConfig(), args.pairs, BENCH_SEED, 0, names)
    rng = np.random.default_rng(BENCH_SEED)
    rows: dict[str, list[tuple[float, float, float, float]]] = {}
    cache = json.loads(args.cache.read_text()) if args.cache and args.cache.is_file() else {}
    traces: list[np.ndarray] = []

    def add(name: str, pair, setting: np.ndarray, seconds: float) -> None:  # type: ignore[no-untyped-def]
        out = chain.render(pair.dry, RATE, setting)
        rows.setdefault(name, []).append((float(np.mean(np.abs(setting - pair.setting))),
                                          stft_distance(out, pair.effected), mfcc_distance(out, pair.effected), seconds))

    for i, pair in enumerate(pairs):
        for name, dry in (("estimator (dry + reference)", pair.dry), ("estimator (reference alone)", None)):
            started = time.perf_counter()
            setting = estimator.estimate(pair.effected, dry)
            add(name, pair, setting, time.perf_counter() - started)
        key = f"{chain.name}|{BENCH_SEED}|{args.pairs}|{i}|{args.budget}|traced"
        if key not in cache:  # the search does not depend on the estimator: kept between runs with --cache
            started = time.perf_counter()
            found = search(chain, pair.dry, pair.effected, SearchConfig(budget=args.budget, seed=i))
            cache[key] = {"setting": found.setting.tolist(), "seconds": time.perf_counter() - started,
                          "trace": list(found.trace)}
            if args.cache:
                args.cache.write_text(json.dumps(cache))
        add(f"search (DE, {args.budget} renders)", pair, np.array(cache[key]["setting"]), cache[key]["seconds"])
        traces.append(np.array(cache[key]["trace"]))
        for renders in args.polish:
            started = time.perf_counter()
            start = estimator.estimate(pair.effected, pair.dry)
            polished = refine(chain, pair.dry, pair.effected, start, renders)
            add(f"estimator + polish ({renders} renders)", pair, polished.setting, time.perf_counter() - started)
            started = time.perf_counter()  # the control: the same polish from the mean setting
            polished = refine(chain, pair.dry, pair.effected, mean_setting(chain), renders)
            add(f"mean setting + polish ({renders} renders)", pair, polished.setting, time.perf_counter() - started)
        if args.seeded:
            started = time.perf_counter()
            start = estimator.estimate(pair.effected, pair.dry)
            found = search(chain, pair.dry, pair.effected, SearchConfig(budget=args.seeded, seed=i), start=start)
            add(f"estimator + search ({args.seeded} renders)", pair, found.setting, time.perf_counter() - started)
        add("random setting", pair, random_setting(chain, rng), 0.0)
        add("mean setting", pair, mean_setting(chain), 0.0)
        print(f"pair {i + 1}/{len(pairs)} done", file=sys.stderr, flush=True)

    print(f"chain {chain.name}; {len(pairs)} held-out pairs from {len(held)} held-out sounds; estimator "
          f"{estimator.path}")
    print(f"{'method':40s} {'param err':>9s} {'STFT':>7s} {'MFCC':>7s} {'s/pair':>8s}")
    means = {name: np.mean(np.array(values), axis=0) for name, values in rows.items()}
    for name, (param, stft, mfcc, seconds) in means.items():
        print(f"{name:40s} {param:9.3f} {stft:7.3f} {mfcc:7.3f} {seconds:8.3f}")
    est, srch = means["estimator (dry + reference)"], means[f"search (DE, {args.budget} renders)"]
    length = min(len(t) for t in traces)
    curve = np.mean([t[:length] for t in traces], axis=0)  # the search's mean best distance after n renders
    for share in (0.01, 0.03, 0.1, 0.3, 1.0):
        n = max(1, int(share * length))
        print(f"search after {n:5d} renders ({share:4.0%} of its time): STFT {curve[n - 1]:.3f}")
    reached = np.flatnonzero(curve <= est[1])
    print(f"the search first matches the estimator's STFT distance after "
          f"{reached[0] + 1 if len(reached) else 'more than ' + str(length)} renders")
    print(f"estimator / search STFT distance: {est[1] / srch[1]:.2f} (goal <= 1.20); search time / estimator time: "
          f"{srch[3] / max(est[3], 1e-9):.0f}x (goal >= 100x); estimator / random STFT: "
          f"{est[1] / means['random setting'][1]:.2f}")
    for renders in args.polish:
        polished = means[f"estimator + polish ({renders} renders)"]
        print(f"estimator + {renders}-render polish / search STFT distance: {polished[1] / srch[1]:.2f}; "
              f"search time / its time: {srch[3] / max(polished[3], 1e-9):.0f}x")


def pipeline(args: argparse.Namespace) -> None:
    """Pairs per second one process makes, what training consumes, rejections, and the threshold's basis."""
    config = FxTrainConfig()
    chain = parse_chain(config.chain)
    _, _, sounds, names = held_out_sounds(config)
    pair_batch(sounds, chain, config.pairs(), 4, 0, 0, names)  # warm caches and imports
    started = time.perf_counter()
    stats = PairStats()
    made = 0
    for step in range(args.batches):
        pairs, batch_stats = pair_batch(sounds, chain, config.pairs(), config.batch_size, 77, step, names)
        stats.add(batch_stats)
        made += len(pairs)
    seconds = time.perf_counter() - started
    print(f"pipeline: {made / seconds:.1f} pairs/s in one process ({stats.line()})")
    print(f"training needs {config.batch_size / config.reuse:.0f} new pairs per step (batch {config.batch_size}, "
          f"each batch serving {config.reuse} steps); at the measured rate one worker makes a step's pairs in "
          f"{config.batch_size / config.reuse / (made / seconds):.3f} s; compare the step time `sfx train fx` logs")
    same = np.array(stats.cosines)
    rng = np.random.default_rng(5)
    pairs, _ = pair_batch(sounds, chain, PairConfig(min_cosine=-1.0), 120, 78, 0, names)
    unrelated = [mfcc_cosine(pairs[i].dry, pairs[j].effected) for i, j in rng.integers(len(pairs), size=(300, 2))
                 if pairs[i].source != pairs[j].source]
    print("MFCC cosine, effected vs its own dry clip: percentiles 1/5/50 "
          + " / ".join(f"{v:.2f}" for v in np.percentile(same, [1, 5, 50])))
    print("MFCC cosine, effected vs an unrelated clip: percentiles 50/90/95 "
          + " / ".join(f"{v:.2f}" for v in np.percentile(unrelated, [50, 90, 95])))
    print(f"threshold {config.min_cosine}: rejects {np.mean(same < config.min_cosine) * 100:.1f}% of same-clip pairs, "
          f"would accept {np.mean(np.array(unrelated) >= config.min_cosine) * 100:.1f}% of unrelated ones")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=12)
    parser.add_argument("--budget", type=int, default=3000, help="search renders per pair")
    parser.add_argument("--polish", type=int, nargs="*", default=[30, 100],
                        help="also: the estimator's answer polished by a coordinate pattern search of this many renders")
    parser.add_argument("--seeded", type=int, default=0, help="also: search from the estimator's answer, this many renders")
    parser.add_argument("--model", type=Path, default=None, help="an estimator .safetensors (default: the shipped one)")
    parser.add_argument("--cache", type=Path, default=None, help="keep the search results in this JSON file")
    parser.add_argument("--pipeline", action="store_true")
    parser.add_argument("--batches", type=int, default=10)
    args = parser.parse_args()
    pipeline(args) if args.pipeline else compare(args)


if __name__ == "__main__":
    main()
