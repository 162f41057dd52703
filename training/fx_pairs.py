"""Training pairs for the FX estimator: a real clip, dry and through random settings of a chain, checked.

For each clip: a random crop of a sound where it is active, varispeed
(pitch and time together, band-limited) and on a share of clips a time
stretch that keeps pitch (Rubber Band via pedalboard), levelled to
``level_dbfs`` RMS with ``tail_seconds`` of silence after it for tails to
ring into. Then the same clip through ``settings_per_clip`` random settings
of the chain, each giving one pair (dry, effected, setting).

A pair is rejected, and counted by cause, when the clip is silent, the
effected audio is silent or not finite, or the effected audio is no longer
the same sound: the cosine similarity of its MFCC sequence with the dry
clip's below ``min_cosine``. ``bench/fx.py --pipeline`` prints how that
similarity falls for same-clip pairs and for pairs of different clips, which
is where the threshold comes from.

Every batch is a pure function of (seed, step) and the sounds, so a resumed
run sees the batches an uninterrupted one would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from sfxcli.errors import DataError, SfxError
from sfxcli.fxmatch.chain import Chain, random_setting
from sfxcli.fxmatch.distance import mfcc_profile, profile_cosine
from sfxcli.match.features import RATE

MAX_SOUND_SECONDS = 12.0  # of each sound, kept in memory


@dataclass(frozen=True)
class PairConfig:
    seconds: float = 1.5  # sound in each clip
    tail_seconds: float = 0.5  # silence after it
    pitch_semitones: float = 3.0  # varispeed range, either way
    stretch_share: float = 0.2  # share of clips also time-stretched (pitch kept)
    stretch_range: float = 0.2  # stretch factor 1 +- this
    level_dbfs: float = -20.0  # RMS of the dry clip, tail included
    settings_per_clip: int = 2
    min_cosine: float = 0.4  # MFCC-sequence cosine of effected against dry; below: no more alike than unrelated clips
    silence_dbfs: float = -60.0  # peak below this: silent
    active_db: float = 30.0  # crops start where the sound is within this of its loudest


@dataclass
class PairStats:
    """What the pipeline made and rejected, by cause."""

    clips: int = 0
    pairs: int = 0
    silent_clip: int = 0
    silent_effected: int = 0
    destroyed: int = 0  # MFCC cosine below the threshold
    cosines: list[float] = field(default_factory=list, repr=False)

    @property
    def rejected(self) -> int:
        return self.silent_clip + self.silent_effected + self.destroyed

    def add(self, other: "PairStats") -> None:
        self.clips += other.clips
        self.pairs += other.pairs
        self.silent_clip += other.silent_clip
        self.silent_effected += other.silent_effected
        self.destroyed += other.destroyed
        self.cosines.extend(other.cosines)

    def line(self) -> str:
        tried = self.pairs + self.silent_effected + self.destroyed
        return (f"{self.pairs} pairs from {self.clips} clips; rejected {self.rejected}: {self.silent_clip} silent "
                f"clips, {self.silent_effected} silent effected, {self.destroyed} no longer the same sound "
                f"({100 * self.destroyed / max(tried, 1):.1f}% of effected)")


@dataclass(frozen=True)
class Pair:
    dry: np.ndarray  # at RATE, level_dbfs RMS, tail of silence included
    effected: np.ndarray
    setting: np.ndarray  # normalised, in [0, 1]^d
    source: str


def load_sounds(paths: list[Path], report: Callable[[str, float], None] | None = None) -> tuple[list[np.ndarray], list[str], list[str]]:
    """Sounds as mono arrays at RATE (the first MAX_SOUND_SECONDS of each); unreadable files are skipped and named."""
    from sfxcli.analysis import resample
    from sfxcli.audio import read_sound

    sounds: list[np.ndarray] = []
    names: list[str] = []
    skipped: list[str] = []
    for i, path in enumerate(paths):
        try:
            samples, rate = read_sound(path)
        except SfxError as error:
            skipped.append(f"{path}: {error}")
            continue
        samples = samples[: int(MAX_SOUND_SECONDS * rate)]
        sounds.append(resample(samples, rate, RATE).astype(np.float32))
        names.append(str(path))
        if report and i % 50 == 0:
            report("reading sounds", i / len(paths))
    if not sounds:
        raise DataError("none of the sounds could be read", "check the manifest's paths")
    return sounds, names, skipped


def _peak_dbfs(x: np.ndarray) -> float:
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    return 20 * np.log10(peak) if peak > 0 else -np.inf


def draw_clip(sound: np.ndarray, rng: np.random.Generator, config: PairConfig) -> np.ndarray | None:
    """An augmented, levelled clip of ``sound`` with its silent tail, or None when the crop is silent."""
    import soxr

    semitones = rng.uniform(-config.pitch_semitones, config.pitch_semitones)
    ratio = 2 ** (semitones / 12)  # played faster by ratio: higher and shorter
    need = int(config.seconds * RATE * ratio) + 1
    hop = RATE // 100
    blocks = np.asarray(sound[: len(sound) // hop * hop], dtype=np.float64).reshape(-1, hop)
    power = np.mean(blocks**2, axis=1) if len(blocks) else np.zeros(1)
    level = 10 * np.log10(np.maximum(power, 1e-12))
    starts = np.flatnonzero(level >= level.max() - config.active_db) * hop
    starts = starts[starts <= max(len(sound) - need, 0)]
    start = int(rng.choice(starts)) if len(starts) else 0
    start = max(0, start - int(rng.uniform(0, 0.1) * RATE))  # sometimes begin just before the sound
    crop = np.asarray(sound[start:start + need], dtype=np.float64)
    crop = soxr.resample(crop, RATE * ratio, RATE, quality="HQ") if abs(ratio - 1) > 1e-3 else crop
    if rng.random() < config.stretch_share:
        from pedalboard import time_stretch

        factor = 1 + rng.uniform(-config.stretch_range, config.stretch_range)
        crop = np.asarray(time_stretch(crop[None, :].astype(np.float32), RATE, stretch_factor=factor)[0], dtype=np.float64)
    n = int(config.seconds * RATE)
    crop = np.pad(crop[:n], (0, max(0, n - len(crop))))
    fade = int(0.02 * RATE)
    crop[-fade:] *= np.linspace(1.0, 0.0, fade)
    if _peak_dbfs(crop) < config.silence_dbfs:
        return None
    clip = np.concatenate([crop, np.zeros(int(config.tail_seconds * RATE))])
    rms = float(np.sqrt(np.mean(clip**2)))  # the whole window, tail included, as the estimator levels it
    return clip * 10 ** (config.level_dbfs / 20) / max(rms, 1e-12)


def pairs_of_clip(clip: np.ndarray, chain: Chain, rng: np.random.Generator, config: PairConfig, stats: PairStats,
                  source: str = "") -> list[Pair]:
    """The clip through ``settings_per_clip`` random settings; the pairs that pass the checks."""
    out: list[Pair] = []
    profile = mfcc_profile(clip)
    for _ in range(config.settings_per_clip):
        setting = random_setting(chain, rng)
        effected = chain.render(clip, RATE, setting)
        if not np.all(np.isfinite(effected)) or _peak_dbfs(effected) < config.silence_dbfs:
            stats.silent_effected += 1
            continue
        cosine = profile_cosine(profile, effected)
        stats.cosines.append(cosine)
        if cosine < config.min_cosine:
            stats.destroyed += 1
            continue
        stats.pairs += 1
        out.append(Pair(clip.astype(np.float32), effected.astype(np.float32), setting, source))
    return out


def pair_batch(sounds: list[np.ndarray], chain: Chain, config: PairConfig, size: int, seed: int, step: int,
               names: list[str] | None = None, max_tries: int = 20) -> tuple[list[Pair], PairStats]:
    """``size`` checked pairs drawn from (seed, step): the same call gives the same pairs."""
    rng = np.random.default_rng([seed, step, 0xF3])
    stats = PairStats()
    pairs: list[Pair] = []
    for _ in range(size * max_tries):
        if len(pairs) >= size:
            break
        index = int(rng.integers(len(sounds)))
        clip = draw_clip(sounds[index], rng, config)
        stats.clips += 1
        if clip is None:
            stats.silent_clip += 1
            continue
        pairs.extend(pairs_of_clip(clip, chain, rng, config, stats, names[index] if names else str(index)))
    if len(pairs) < size:
        raise DataError(f"only {len(pairs)} of {size} pairs passed the checks ({stats.line()})",
                        "the sounds may be too quiet or too short; check the manifest")
    return pairs[:size], stats


def main() -> None:
    """``python -m training.fx_pairs --mfcc-stats``: rebuild the MFCC statistics the pipeline's check uses,
    from crops of the shared sound effects."""
    import sys

    from sfxcli.fxmatch.distance import build_mfcc_stats
    from training.data import read_manifest

    if sys.argv[1:] != ["--mfcc-stats"]:
        raise SystemExit("usage: python -m training.fx_pairs --mfcc-stats")
    examples = read_manifest(Path(__file__).resolve().parents[1].parent / "shared" / "data" / "sfx" / "manifest.csv")
    sounds, _, _ = load_sounds([e.sound for e in examples])
    rng = np.random.default_rng(0)
    clips = [c for c in (draw_clip(sounds[int(i)], rng, PairConfig()) for i in rng.integers(len(sounds), size=600))
             if c is not None]
    build_mfcc_stats(clips)


if __name__ == "__main__":
    main()
