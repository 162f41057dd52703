"""Levelling, fades, tails and envelope following."""

from __future__ import annotations

import numpy as np
import pytest

from sfxcli.analysis import loudness_correlation
from sfxcli.post import LevelConfig, fade, follow_envelope, integrated_lufs, normalise, trim_tail, true_peak_dbfs
from sfxcli.presets import Effect, FxChain
from sfxcli.post import apply_fx

SR = 48000


def _tone(seconds: float, amp: float = 0.1) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return amp * np.sin(2 * np.pi * 440 * t)


def test_peak_normalisation_hits_the_target() -> None:
    out, info = normalise(_tone(1.0), SR, LevelConfig(peak_dbfs=-3.0))
    assert abs(true_peak_dbfs(out, SR) + 3.0) < 0.01
    assert info["mode"] == "peak"


@pytest.mark.parametrize("seconds", [2.0, 0.15])
def test_lufs_normalisation_long_and_short_clips(seconds: float) -> None:
    out, info = normalise(_tone(seconds), SR, LevelConfig(mode="lufs", lufs=-20.0))
    measured, method = integrated_lufs(out, SR)
    assert abs(measured + 20.0) < 0.1
    assert ("looped" in method) == (seconds < 0.4)
    assert info["achieved_lufs"] == pytest.approx(-20.0, abs=0.1)


def test_lufs_never_breaks_the_ceiling() -> None:
    clicks = np.zeros(SR)
    clicks[::4800] = 0.5
    out, info = normalise(clicks, SR, LevelConfig(mode="lufs", lufs=-6.0, ceiling_dbfs=-1.0))
    assert true_peak_dbfs(out, SR) <= -1.0 + 0.01
    assert "ceiling" in str(info.get("note", ""))


def test_fades_start_and_end_at_zero() -> None:
    out = fade(np.ones(SR), SR, 5.0, 30.0)
    assert out[0] == 0.0 and abs(out[-1]) < 1e-9 and out[SR // 2] == 1.0


def test_trim_tail_keeps_the_imitation_span() -> None:
    x = np.concatenate([_tone(1.0), np.zeros(SR)])
    assert len(trim_tail(x, SR, keep_seconds=0.5, threshold_db=-70)) == pytest.approx(SR, abs=SR // 100)
    assert len(trim_tail(x, SR, keep_seconds=1.5, threshold_db=-70)) == int(1.5 * SR)


def test_follow_envelope_imposes_the_contour() -> None:
    rng = np.random.default_rng(0)
    flat = 0.1 * rng.standard_normal(2 * SR)
    frames = 200
    target = np.concatenate([np.linspace(0.01, 1.0, 100), np.linspace(1.0, 0.05, 100)])
    shaped_reference = np.repeat(target, SR // 100) * rng.standard_normal(2 * SR)
    before = loudness_correlation(shaped_reference, flat, SR, SR)
    after = loudness_correlation(shaped_reference, follow_envelope(flat, SR, target, 1.0), SR, SR)
    assert before < 0.3 < 0.95 < after
    assert frames == len(target)


def test_fx_chain_changes_the_sound_and_keeps_length() -> None:
    x = _tone(0.5, 0.5)
    chain = FxChain("t", "", (Effect("LowpassFilter", (("cutoff_frequency_hz", 200.0),)),))
    out = apply_fx(x, SR, [chain])
    assert len(out) == len(x)
    assert np.sqrt(np.mean(out**2)) < 0.5 * np.sqrt(np.mean(x**2))


def test_follow_spares_attacks_only_as_much_as_asked() -> None:
    """Knocks that die away in 15 ms on a take that holds each note: the full follow fills their decay in; with
    the gain held across attacks their first 20 ms keep their own shape, and the rest still follows."""
    from sfxcli.analysis import frame_loudness_db

    rng = np.random.default_rng(3)
    knocks = np.zeros(2 * SR)
    times = (0.2, 0.7, 1.3)
    for t in times:
        start = int(t * SR)
        knocks[start : start + SR // 4] += rng.standard_normal(SR // 4) * np.exp(-np.arange(SR // 4) / (0.015 * SR))
    target = np.full(200, 0.01)
    for t in times:
        target[int(t * 100) : int(t * 100) + 30] = 1.0  # the take: 300 ms notes
    def shape(audio: np.ndarray, t: float) -> np.ndarray:
        levels = frame_loudness_db(audio, SR, 1000)[int(t * 1000) : int(t * 1000) + 20]
        return levels - levels.max()
    full = follow_envelope(knocks, SR, target, 1.0, smooth_frames=1)
    held = follow_envelope(knocks, SR, target, 1.0, smooth_frames=1, attacks_seconds=times, attack_follow=0.0)
    half = follow_envelope(knocks, SR, target, 1.0, smooth_frames=1, attacks_seconds=times, attack_follow=0.5)
    for t in times:
        own = shape(knocks, t)
        bent = [float(np.mean(np.abs(shape(x, t) - own))) for x in (full, half, held)]
        assert bent[0] > 2.0 and bent[1] < 0.7 * bent[0] and bent[2] < 0.1, bent
    # outside the attacks the held follow rides the gain as the full one does
    later = slice(int(0.25 * SR), int(0.45 * SR))
    assert np.allclose(held[later], full[later])
