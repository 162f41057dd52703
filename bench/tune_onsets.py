"""Onset detection against known onsets, with every threshold chosen out of sample.

Sets: espeak-ng takes and synthesised takes (training/voices.py; their true
onsets are known) and the shared real imitations (onsets marked by eye on
spectrograms, bench/imitation_onsets.csv). Detectors: sfx's own
(``sfxcli.analysis``, over a grid of ``OnsetConfig`` thresholds) and librosa's
``onset_detect`` (``onset_strength`` spectral flux, plain and with SuperFlux's
lag and frequency max filter, over a grid of peak-picking settings, with and
without backtracking). F1 is per take (50 ms tolerance), averaged over takes.

For each detector it prints: in-sample F1 (the best setting on all the takes
scored), leave-one-out F1 (each take scored with the setting that is best on
all the other takes, the set-weighted objective below), and across sets (the
setting best on espeak + synthetic scored on the real takes, and the setting
best on the real takes scored on espeak + synthetic). The objective that picks
a setting weighs each set equally: the mean of the per-set mean F1s.

    python bench/tune_onsets.py [--espeak 40] [--synthetic 40] [--seed 0] [--show 5]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import EvalTake, espeak_takes, real_takes, synthetic_takes  # noqa: E402

from sfxcli.analysis import (ANALYSIS_RATE, FRAME_RATE, OnsetConfig, merge_onsets, onset_candidates,  # noqa: E402
                             onset_f1, onset_inputs, onset_novelty, pick_onsets, resample)

# The thresholds sfx shipped before they were tuned out of sample, on all three sets.
LEVEL_ONLY = OnsetConfig(smooth_frames=3, lag_frames=(3, 5), min_band_rise_db=7.0, min_level_rise_db=10.0,
                         min_pitch_jump_semitones=float("inf"), max_pitch_jump_semitones=float("inf"),
                         pitch_window_frames=6, max_level_fall_db=float("inf"), min_band_rise_alone_db=float("inf"),
                         min_interval_seconds=0.08, first_of_cluster=False, window_seconds=0.05,
                         relative_floor_db=-40.0)

OWN_GRID = {
    "min_band_rise_db": (4.0, 5.0, 6.0, 7.0),
    "min_level_rise_db": (6.0, 8.0, 10.0),
    "min_pitch_jump_semitones": (float("inf"), 1.5, 2.0, 3.0),
    "max_pitch_jump_semitones": (7.0, 10.0, float("inf")),
    "max_level_fall_db": (3.0, 6.0, float("inf")),
    "min_band_rise_alone_db": (float("inf"), 12.0),
    "min_interval_seconds": (0.08, 0.12, 0.16),
    "first_of_cluster": (False, True),
}
# held fixed while the grid above is searched (a wider search put them here on every set)
OWN_FIXED = {"pitch_window_frames": 10, "relative_floor_db": -30.0, "window_seconds": 0.02}

LIBROSA_ENVELOPES = {"flux": {"lag": 1, "max_size": 1}, "superflux": {"lag": 2, "max_size": 3}}
LIBROSA_GRID = {
    "envelope": tuple(LIBROSA_ENVELOPES),
    "delta": (0.03, 0.05, 0.07, 0.1, 0.15, 0.2, 0.3),
    "wait_seconds": (0.03, 0.08, 0.15),
    "backtrack": (False, True),
}
HOP = ANALYSIS_RATE // FRAME_RATE


@dataclass(frozen=True)
class Scored:
    """F1 of every setting of one detector on every take: ``f1[take, setting]``."""

    detector: str
    settings: list[dict[str, object]]
    f1: np.ndarray


def grid(axes: dict[str, Sequence[object]]) -> list[dict[str, object]]:
    return [dict(zip(axes, values)) for values in itertools.product(*axes.values())]


def score_own(takes: list[EvalTake], base: OnsetConfig = OnsetConfig()) -> Scored:
    """sfx's detector over OWN_GRID (OWN_FIXED and the other fields as in BASE)."""
    settings = grid(OWN_GRID)
    configs = [replace(base, **OWN_FIXED, **s) for s in settings]  # type: ignore[arg-type]
    f1 = np.zeros((len(takes), len(configs)))
    for i, take in enumerate(takes):
        inputs = onset_inputs(take.samples, take.sample_rate)
        novelties = {w: onset_novelty(inputs, replace(base, min_pitch_jump_semitones=1.0, pitch_window_frames=w))
                     for w in {c.pitch_window_frames for c in configs}}
        candidates: dict[OnsetConfig, np.ndarray] = {}  # keyed by the config with the merging fields reset
        for j, config in enumerate(configs):
            novelty = novelties[config.pitch_window_frames]
            key = replace(config, min_interval_seconds=0.0, first_of_cluster=False)
            if key not in candidates:
                candidates[key] = onset_candidates(novelty, inputs.loudness_db, inputs.frame_rate, config)
            onsets = merge_onsets(candidates[key], novelty.band_rise_db, inputs.frame_rate, config)
            f1[i, j] = onset_f1(take.onsets_seconds, onsets)
    return Scored("sfx", settings, f1)


def score_fixed(takes: list[EvalTake], name: str, detect: Callable[[EvalTake], np.ndarray]) -> Scored:
    return Scored(name, [{}], np.array([[onset_f1(t.onsets_seconds, detect(t))] for t in takes]))


def score_librosa(takes: list[EvalTake]) -> Scored:
    import librosa

    settings = grid(LIBROSA_GRID)
    f1 = np.zeros((len(takes), len(settings)))
    for i, take in enumerate(takes):
        y = resample(take.samples, take.sample_rate, ANALYSIS_RATE)
        envelopes = {name: librosa.onset.onset_strength(y=y, sr=ANALYSIS_RATE, hop_length=HOP, n_fft=1024, **kw)
                     for name, kw in LIBROSA_ENVELOPES.items()}
        for j, s in enumerate(settings):
            onsets = librosa.onset.onset_detect(onset_envelope=envelopes[str(s["envelope"])], sr=ANALYSIS_RATE,
                                                hop_length=HOP, units="time", delta=float(s["delta"]),  # type: ignore[arg-type]
                                                wait=max(1, int(round(float(s["wait_seconds"]) * FRAME_RATE))),  # type: ignore[arg-type]
                                                backtrack=bool(s["backtrack"]))
            f1[i, j] = onset_f1(take.onsets_seconds, onsets)
    return Scored("librosa", settings, f1)


def objective(f1: np.ndarray, groups: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Per setting: the mean F1 of the takes in MASK on the set where it is lowest, plus a thousandth of the
    mean over sets to break ties. Detection has to hold on every kind of take, not on average."""
    per_set = np.array([f1[mask & (groups == g)].mean(axis=0) for g in np.unique(groups[mask])])
    return per_set.min(axis=0) + 1e-3 * per_set.mean(axis=0)


def leave_one_out(f1: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Each take's F1 with the setting best on all the other takes (ties: the first setting)."""
    held = np.zeros(len(f1))
    everything = np.ones(len(f1), dtype=bool)
    for i in range(len(f1)):
        others = everything.copy()
        others[i] = False
        held[i] = f1[i, int(np.argmax(objective(f1, groups, others)))]
    return held


def tuning_takes(espeak: int = 40, synthetic: int = 40, seed: int = 0) -> tuple[list[EvalTake], np.ndarray]:
    """The takes the shipped thresholds were chosen on, and the set each belongs to."""
    takes = [t for t in real_takes() if t.onsets_seconds is not None]
    takes += espeak_takes(espeak, seed) + synthetic_takes(synthetic, seed)
    groups = np.array(["real" if t.kind == "real" else ("synthetic" if t.name.startswith("synthetic") else "espeak")
                       for t in takes])
    return takes, groups


def fold_configs(real: list[EvalTake]) -> list[OnsetConfig]:
    """For each of the REAL takes, the OWN_GRID thresholds best (same objective) on every other tuning take."""
    takes, groups = tuning_takes()
    scored = score_own(takes)
    everything = np.ones(len(takes), dtype=bool)
    position = {t.name: i for i, t in enumerate(takes)}
    configs = []
    for take in real:
        others = everything.copy()
        others[position[take.name]] = False
        best = scored.settings[int(np.argmax(objective(scored.f1, groups, others)))]
        configs.append(replace(OnsetConfig(), **OWN_FIXED, **best))  # type: ignore[arg-type]
    return configs


def report(scored: Scored, groups: np.ndarray, names: list[str], show: int) -> dict[str, object]:
    """Print one detector's figures; return the setting best on everything."""
    f1 = scored.f1
    everything = np.ones(len(f1), dtype=bool)
    best = int(np.argmax(objective(f1, groups, everything)))
    held = leave_one_out(f1, groups)
    row = [f"{scored.detector:22s}"]
    for g in names:
        m = groups == g
        row.append(f"{f1[m, best].mean():.3f}/{held[m].mean():.3f}")
    synthetic = np.isin(groups, ["espeak", "synthetic"])
    real = groups == "real"
    if real.any() and synthetic.any():
        on_made = int(np.argmax(objective(f1, groups, synthetic)))
        on_real = int(np.argmax(objective(f1, groups, real)))
        row.append(f"{f1[real, on_made].mean():.3f}")
        row.append(f"{np.mean([f1[groups == g, on_real].mean() for g in ('espeak', 'synthetic')]):.3f}")
    print("  ".join(row))
    if show and len(scored.settings) > 1:
        ranked = np.argsort(-objective(f1, groups, everything))[:show]
        for j in ranked:
            per_set = " ".join(f"{g} {f1[groups == g, j].mean():.3f}" for g in names)
            print(f"      {per_set}  {scored.settings[j]}")
    return scored.settings[best]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--espeak", type=int, default=40, help="espeak-ng takes")
    parser.add_argument("--synthetic", type=int, default=40, help="synthesised takes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--show", type=int, default=5, help="best settings to list for each tuned detector")
    parser.add_argument("--no-librosa", action="store_true")
    args = parser.parse_args()
    start = time.perf_counter()
    takes, groups = tuning_takes(args.espeak, args.synthetic, args.seed)
    names = [g for g in ("real", "espeak", "synthetic") if (groups == g).any()]
    print(f"{' '.join(f'{g} {(groups == g).sum()}' for g in names)} takes; F1 in-sample/leave-one-out per set, "
          f"then across sets [{time.perf_counter() - start:.1f} s]")
    header = "  ".join([f"{'detector':22s}"] + [f"{g:>11s}" for g in names])
    if "real" in names:
        header += "  made->real  real->made"
    print(header)
    shipped = OnsetConfig()
    report(score_fixed(takes, "sfx level-only (old)", lambda t: _own(t, LEVEL_ONLY)), groups, names, 0)
    report(score_fixed(takes, "sfx shipped defaults", lambda t: _own(t, shipped)), groups, names, 0)
    best = report(score_own(takes, shipped), groups, names, args.show)
    print(f"  sfx best on all sets: {best}")
    if not args.no_librosa:
        report(score_librosa(takes), groups, names, args.show)
    print(f"[{time.perf_counter() - start:.1f} s]")


def _own(take: EvalTake, config: OnsetConfig) -> np.ndarray:
    inputs = onset_inputs(take.samples, take.sample_rate)
    return pick_onsets(onset_novelty(inputs, config), inputs.loudness_db, inputs.frame_rate, config)


if __name__ == "__main__":
    main()
