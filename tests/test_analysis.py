"""Analysis curves measure what they claim on signals with known answers."""

from __future__ import annotations

import numpy as np

from sfxcli.analysis import FRAME_RATE, analyse, controls_from_curves, frame_loudness_db, loudness_correlation, onset_f1
from tests.conftest import bursts, hum


def test_frame_rate_and_length() -> None:
    curves = analyse(hum(2.0), 16000)
    assert curves.frame_rate == FRAME_RATE >= 50
    assert abs(curves.n_frames - 200) <= 1
    for curve in (curves.pitch_hz, curves.voicing, curves.centroid_hz, curves.novelty):
        assert len(curve) == curves.n_frames


def test_pitch_of_a_hum_is_found_at_any_sample_rate() -> None:
    for sr in (16000, 44100, 48000):
        curves = analyse(hum(1.5, sr=sr, f0=220.0), sr)
        voiced = curves.pitch_hz[curves.pitch_hz > 0]
        assert len(voiced) > 0.8 * curves.n_frames
        assert abs(np.median(voiced) - 220.0) < 220.0 * 0.01


def test_pitch_glide_is_followed() -> None:
    curves = analyse(hum(2.0, f0=150.0, f1=300.0), 16000)
    pitch = curves.pitch_hz
    early, late = pitch[20:40], pitch[160:180]
    assert np.median(late) / np.median(early) > 1.6


def test_noise_is_unvoiced() -> None:
    rng = np.random.default_rng(0)
    curves = analyse(0.3 * rng.standard_normal(16000), 16000)
    assert np.mean(curves.voicing > 0.6) < 0.1


def test_minus_six_db_halves_the_amplitude() -> None:
    x = hum(1.0)
    a = frame_loudness_db(x, 16000)
    b = frame_loudness_db(x * 0.5, 16000)
    loud = a > -40
    assert np.allclose(a[loud] - b[loud], 20 * np.log10(2), atol=1e-6)


def test_brightness_rises_with_the_cutoff() -> None:
    rng = np.random.default_rng(0)
    noise = rng.standard_normal(32000)
    spectrum = np.fft.rfft(noise)
    freqs = np.fft.rfftfreq(len(noise), 1 / 16000)
    dark = np.fft.irfft(spectrum * (freqs < 800), len(noise))
    bright = np.fft.irfft(spectrum * (freqs > 3000), len(noise))
    assert np.median(analyse(bright, 16000).centroid_hz) > 3 * np.median(analyse(dark, 16000).centroid_hz)


def test_onsets_of_syllables_are_found_within_tolerance() -> None:
    truth = [0.3, 0.9, 1.4, 2.2]
    curves = analyse(bursts(truth), 16000)
    assert onset_f1(np.array(truth), curves.onsets_seconds, 0.03) == 1.0


def test_a_steady_hum_has_one_onset() -> None:
    x = np.concatenate([np.zeros(8000), hum(2.0)])
    onsets = analyse(x, 16000).onsets_seconds
    assert len(onsets) == 1 and abs(onsets[0] - 0.5) < 0.03


def _legato_hum(notes: list[float], semitones: list[float], seconds: float = 2.5, f0: float = 160.0,
                vibrato_semitones: float = 0.0) -> np.ndarray:
    """A breathy hum whose notes change pitch at NOTES (20 ms glides) without any change of level."""
    sr = 16000
    rng = np.random.default_rng(0)
    n = int(seconds * sr)
    t = np.arange(n) / sr
    target = np.zeros(n)
    for start, step in zip(notes, semitones):
        target[t >= start] = step
    glide = int(0.02 * sr)
    pitch = np.convolve(np.pad(target, (glide, 0), mode="edge"), np.ones(glide) / glide, "valid")[:n]
    pitch = pitch + vibrato_semitones * np.sin(2 * np.pi * 5.5 * t)
    phase = 2 * np.pi * np.cumsum(f0 * 2 ** (pitch / 12)) / sr
    envelope = np.clip((t - notes[0]) / 0.03, 0, 1) * np.clip((seconds - 0.2 - t) / 0.1, 0, 1)
    voice = sum(np.sin(k * phase) / k for k in range(1, 10)) * 0.3
    return voice * envelope + 0.01 * rng.standard_normal(n) * (0.3 + envelope)  # breath with the voice, room under it


def test_legato_notes_each_start_an_onset() -> None:
    """Sung notes joined without a dip in level: the old level-rise detector found only the first (F1 0.4)."""
    truth = [0.3, 0.8, 1.3, 1.8]
    curves = analyse(_legato_hum(truth, [0.0, 4.0, 1.0, 6.0]), 16000)
    assert onset_f1(np.array(truth), curves.onsets_seconds) == 1.0, curves.onsets_seconds


def test_vibrato_a_glide_and_a_falling_ending_start_nothing() -> None:
    wobbly = analyse(_legato_hum([0.3], [0.0], vibrato_semitones=0.4), 16000).onsets_seconds
    assert len(wobbly) == 1 and abs(wobbly[0] - 0.3) < 0.03
    glide = analyse(np.concatenate([np.zeros(8000), hum(2.0, f0=150.0, f1=300.0)]), 16000).onsets_seconds
    assert len(glide) == 1 and abs(glide[0] - 0.5) < 0.03
    sr = 16000
    t = np.arange(2 * sr) / sr
    falling = np.where(t < 1.2, 200.0, 200.0 * 2 ** (-(t - 1.2) * 8 / 12 / 0.3))  # a note dying away, pitch sagging
    phase = 2 * np.pi * np.cumsum(falling) / sr
    x = sum(np.sin(k * phase) / k for k in range(1, 8)) * 0.3 * np.clip((t - 0.3) / 0.03, 0, 1) \
        * np.where(t < 1.2, 1.0, np.exp(-(t - 1.2) / 0.12))
    ending = analyse(x, sr).onsets_seconds
    assert len(ending) == 1 and abs(ending[0] - 0.3) < 0.03, ending


def test_controls_are_normalised() -> None:
    controls = controls_from_curves(analyse(hum(2.0, f0=150, f1=300), 16000))
    assert controls.level.min() >= 0 and controls.level.max() <= 1
    assert controls.gain.max() <= 1.0 + 1e-9
    assert controls.pitch_semitones[150] > controls.pitch_semitones[30] + 6  # an octave glide


def test_onset_f1_counts_matches_one_to_one() -> None:
    assert onset_f1(np.array([1.0, 2.0]), np.array([1.01, 1.02, 2.04])) == 0.8
    assert onset_f1(np.array([]), np.array([])) == 1.0
    assert onset_f1(np.array([1.0]), np.array([])) == 0.0


def test_loudness_correlation_sees_a_matching_envelope() -> None:
    x = bursts([0.2, 1.0, 2.0])
    assert loudness_correlation(x, x * 0.3, 16000, 16000) > 0.999
    rng = np.random.default_rng(3)
    flat = 0.1 * rng.standard_normal(len(x))
    assert loudness_correlation(x, flat, 16000, 16000) < 0.5
