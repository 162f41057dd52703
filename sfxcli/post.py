"""Post-processing of dry renders: FX chain, envelope follow, tail, fades, level.

Pure functions on arrays; pedalboard does the effects. Audio is mono
``(samples,)`` or multichannel ``(samples, channels)``; levels are measured
on the mono sum, and every gain applies to all channels alike, so a stereo
image stays where it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from sfxcli.analysis import FRAME_RATE, frame_loudness_db
from sfxcli.dsp import along_time, frame_gain, mono_sum, moving_average
from sfxcli.errors import UsageError
from sfxcli.presets import Effect, FxChain, make_plugin

SHORT_CLIP_SECONDS = 0.4  # BS.1770 gating block: shorter clips have no integrated loudness


@dataclass(frozen=True)
class LevelConfig:
    """How the finished file is levelled."""

    mode: Literal["peak", "lufs"] = "peak"
    peak_dbfs: float = -1.0
    lufs: float = -16.0
    ceiling_dbfs: float = -1.0  # never exceeded in lufs mode


def level_config(peak_dbfs: float | None, lufs: float | None) -> LevelConfig:
    """Levelling from a request's peak or lufs option (checked in ``sfxcli.request``)."""
    if lufs is not None:
        return LevelConfig(mode="lufs", lufs=lufs)
    return LevelConfig(peak_dbfs=-1.0 if peak_dbfs is None else peak_dbfs)


@dataclass(frozen=True)
class PostConfig:
    fade_in_ms: float = 2.0
    fade_out_ms: float = 30.0
    trim_tail_db: float = -70.0  # cut the tail once it stays below this (relative to peak)
    level: LevelConfig = LevelConfig()


@dataclass(frozen=True)
class Finish:
    """How one request's renders are finished: the same for every candidate."""

    chains: list[FxChain]
    target_gain: np.ndarray  # the imitation's linear level per control frame (peak 1)
    follow: float  # envelope-follow strength 0..1
    keep_seconds: float  # never trim the tail before this (the imitation's length)
    post: PostConfig = PostConfig()
    follow_smoothing: int = 3  # frames the follow correction is smoothed over
    attack_follow: float = 1.0  # share of the follow's gain movement let through across a render's attacks


def apply_fx(audio: np.ndarray, sample_rate: int, chains: list[FxChain]) -> np.ndarray:
    """Run the chains' effects in order (pedalboard); as many channels out as in. A chain with an
    ``input_rms_dbfs`` (a matched one, whose compressor threshold assumes that level) gets the sound at
    that level and gives it back at the level it came in."""
    for i, chain in enumerate(chains):
        if chain.input_rms_dbfs is not None:
            before = _run_effects(audio, sample_rate, [e for c in chains[:i] for e in c.effects])
            rms = float(np.sqrt(np.mean(mono_sum(before) ** 2)))
            if rms <= 0:
                return before
            gain = 10 ** (chain.input_rms_dbfs / 20) / rms
            matched = _run_effects(before * gain, sample_rate, list(chain.effects)) / gain
            return apply_fx(matched, sample_rate, chains[i + 1:])
    return _run_effects(audio, sample_rate, [effect for chain in chains for effect in chain.effects])


def _run_effects(audio: np.ndarray, sample_rate: int, effects: list[Effect]) -> np.ndarray:
    if not effects:
        return audio
    from pedalboard import Pedalboard

    board = Pedalboard([make_plugin(effect) for effect in effects])
    if audio.ndim == 2:
        return np.asarray(board(audio.T.astype(np.float32), sample_rate, reset=True), dtype=np.float64).T
    out = board(audio.astype(np.float32)[None, :], sample_rate, reset=True)
    return np.asarray(out[0], dtype=np.float64)


ATTACK_WINDOW_SECONDS = 0.02  # an attack's own shape: its first 20 ms
ATTACK_PREROLL_SECONDS = 0.002
ATTACK_RELEASE_SECONDS = 0.01  # after the window the gain eases back onto the follow over this long


def follow_envelope(audio: np.ndarray, sample_rate: int, target_gain: np.ndarray, strength: float,
                    frame_rate: int = FRAME_RATE, max_boost_db: float = 18.0, max_cut_db: float = 60.0,
                    smooth_frames: int = 3, attacks_seconds: tuple[float, ...] = (),
                    attack_follow: float = 1.0) -> np.ndarray:
    """Ride the gain so the output's 10 ms level contour matches the imitation's.

    ``target_gain`` is the imitation's linear envelope per frame (peak 1).
    The correction is ``strength`` times the dB difference after aligning the
    two contours' median level; frames past the imitation's end are left free
    (that is where tails ring out): they keep the last cut and get no boost.
    Across each of ``attacks_seconds`` (from 2 ms before to 20 ms after) only
    ``attack_follow`` of the gain's movement is kept, around its
    energy-weighted mean there: the attack keeps its own shape (0: exactly)
    and comes out at the level the follow gives it.
    """
    if strength <= 0:
        return audio
    mono = mono_sum(audio)
    out_db = frame_loudness_db(mono, sample_rate, frame_rate)
    target_db = 20 * np.log10(np.maximum(target_gain, 1e-6))
    n = min(len(out_db), len(target_db))
    has_content = out_db[:n] > out_db.max() - 80
    key = has_content & (target_db[:n] > -30)
    if not key.any():
        return audio
    offset = float(np.median(out_db[:n][key] - target_db[:n][key]))
    correction = np.zeros(len(out_db))
    correction[:n] = np.clip(strength * (target_db[:n] + offset - out_db[:n]), -max_cut_db, max_boost_db)
    correction[:n][~has_content] = 0.0
    if n < len(out_db):
        # the tail rings out at the level the release left it, never boosted
        correction[n:] = min(correction[n - 1], 0.0)
    correction = moving_average(correction, smooth_frames)
    if not attacks_seconds or attack_follow >= 1.0:
        return audio * along_time(frame_gain(correction, len(audio), sample_rate, frame_rate), audio)
    gain_db = 20 * np.log10(frame_gain(correction, len(audio), sample_rate, frame_rate))
    gain_db = spare_attacks(gain_db, mono**2, sample_rate, attacks_seconds, attack_follow)
    return audio * along_time(10 ** (gain_db / 20), audio)


def spare_attacks(gain_db: np.ndarray, power: np.ndarray, sample_rate: int, attacks_seconds: tuple[float, ...],
                  keep: float) -> np.ndarray:
    """A per-sample gain curve (dB) with only ``keep`` of its movement left across each attack.

    Over each attack's window (ATTACK_PREROLL_SECONDS before it to
    ATTACK_WINDOW_SECONDS after) the curve is drawn towards its mean there,
    weighted by the signal's ``power``; it eases in over the pre-roll and back
    onto the free curve over ATTACK_RELEASE_SECONDS, so it never steps.
    """
    out = gain_db.copy()
    pre = int(ATTACK_PREROLL_SECONDS * sample_rate)
    window = int(ATTACK_WINDOW_SECONDS * sample_rate)
    release = int(ATTACK_RELEASE_SECONDS * sample_rate)
    for attack in sorted(attacks_seconds):
        at = int(round(attack * sample_rate))
        lo, hi = max(at - pre, 0), min(at + window, len(out))
        if hi - lo < 2:
            continue
        weights = power[lo:hi] + 1e-30
        mean_db = float(np.sum(out[lo:hi] * weights) / np.sum(weights))
        held = mean_db + keep * (out[lo:hi] - mean_db)
        start = max(lo - pre, 0)  # ease in: the step at the window's start spread over the pre-roll before it
        out[start:lo] += (held[0] - out[lo]) * np.linspace(0.0, 1.0, lo - start, endpoint=False)
        end = min(hi + release, len(out))  # ease out onto the free curve
        out[hi:end] += (held[-1] - out[hi - 1]) * np.linspace(1.0, 0.0, end - hi, endpoint=False)
        out[lo:hi] = held
    return out


def fade(audio: np.ndarray, sample_rate: int, fade_in_ms: float, fade_out_ms: float) -> np.ndarray:
    out = audio.copy()
    n_in = min(len(out), int(sample_rate * fade_in_ms / 1000))
    n_out = min(len(out), int(sample_rate * fade_out_ms / 1000))
    if n_in > 1:
        out[:n_in] *= along_time(np.sin(0.5 * np.pi * np.linspace(0, 1, n_in)) ** 2, out)
    if n_out > 1:
        out[-n_out:] *= along_time(np.cos(0.5 * np.pi * np.linspace(0, 1, n_out)) ** 2, out)
    return out


def trim_tail(audio: np.ndarray, sample_rate: int, keep_seconds: float, threshold_db: float) -> np.ndarray:
    """Drop what follows the last frame above ``threshold_db`` (re peak), never before ``keep_seconds``."""
    if len(audio) == 0:
        return audio
    levels = frame_loudness_db(mono_sum(audio), sample_rate)
    loud = np.flatnonzero(levels > levels.max() + threshold_db)
    hop = sample_rate // FRAME_RATE
    end = (int(loud[-1]) + 1) * hop if len(loud) else len(audio)
    return audio[: max(end, min(len(audio), int(keep_seconds * sample_rate)))]


def true_peak_dbfs(audio: np.ndarray, sample_rate: int) -> float:
    """Peak of the 4x oversampled signal (inter-sample peaks included)."""
    import soxr

    over = soxr.resample(audio.astype(np.float64), sample_rate, sample_rate * 4, quality="HQ") if len(audio) > 16 else audio
    peak = max(float(np.abs(over).max(initial=0.0)), float(np.abs(audio).max(initial=0.0)))
    return 20 * np.log10(peak) if peak > 0 else -np.inf


def integrated_lufs(audio: np.ndarray, sample_rate: int) -> tuple[float, str]:
    """BS.1770 loudness (pyloudnorm); clips shorter than a gating block are
    measured as if looped to 1 s, which is what a listener hears of a
    one-shot played at that level (the LUFS of its sustained sound)."""
    import pyloudnorm

    meter = pyloudnorm.Meter(sample_rate)
    if len(audio) / sample_rate < SHORT_CLIP_SECONDS:
        repeats = int(np.ceil(sample_rate / max(len(audio), 1)))
        looped = np.tile(audio, repeats) if audio.ndim == 1 else np.tile(audio, (repeats, 1))
        return float(meter.integrated_loudness(looped)), "looped short clip"
    return float(meter.integrated_loudness(audio)), "BS.1770 integrated"


def normalise(audio: np.ndarray, sample_rate: int, config: LevelConfig) -> tuple[np.ndarray, dict[str, float | str]]:
    """Level the clip; returns the audio and what was measured and applied."""
    if config.mode == "peak":
        current = true_peak_dbfs(audio, sample_rate)
        if not np.isfinite(current):
            return audio, {"mode": "peak", "gain_db": 0.0}
        gain_db = config.peak_dbfs - current
        return audio * 10 ** (gain_db / 20), {"mode": "peak", "target_dbfs": config.peak_dbfs, "gain_db": round(gain_db, 3)}
    if config.mode == "lufs":
        current, method = integrated_lufs(audio, sample_rate)
        if not np.isfinite(current):
            raise UsageError("the result is too quiet to measure its loudness; use --peak instead of --lufs")
        gain_db = config.lufs - current
        peak_after = true_peak_dbfs(audio, sample_rate) + gain_db
        limited = peak_after > config.ceiling_dbfs
        if limited:
            gain_db -= peak_after - config.ceiling_dbfs
        info: dict[str, float | str] = {
            "mode": "lufs", "target_lufs": config.lufs, "measured_lufs": round(current, 2),
            "method": method, "gain_db": round(gain_db, 3),
            "achieved_lufs": round(current + gain_db, 2),
        }
        if limited:
            info["note"] = f"held to the {config.ceiling_dbfs:g} dBFS true-peak ceiling"
        return audio * 10 ** (gain_db / 20), info
    raise UsageError(f"unknown level mode {config.mode!r}")


def finish(dry: np.ndarray, sample_rate: int, plan: Finish,
           attacks_seconds: tuple[float, ...] = ()) -> tuple[np.ndarray, dict[str, object]]:
    """The whole chain: FX, envelope follow (sparing the render's ``attacks_seconds``), tail trim, fades, levelling."""
    wet = apply_fx(dry, sample_rate, plan.chains)
    if not np.all(np.isfinite(wet)):
        wet = np.nan_to_num(wet, nan=0.0, posinf=0.0, neginf=0.0)
    followed = follow_envelope(wet, sample_rate, plan.target_gain, plan.follow, smooth_frames=plan.follow_smoothing,
                               attacks_seconds=attacks_seconds, attack_follow=plan.attack_follow)
    post = plan.post
    trimmed = trim_tail(followed, sample_rate, plan.keep_seconds, post.trim_tail_db)
    faded = fade(trimmed, sample_rate, post.fade_in_ms, post.fade_out_ms)
    levelled, level_info = normalise(faded, sample_rate, post.level)
    return levelled, {"level": level_info, "seconds": round(len(levelled) / sample_rate, 4)}
