"""Bending recordings leaves no aliases: test tones through the library engine's varispeed and pitch shift.

Levels are read off a windowed FFT of the steady middle of the output and
scaled so that a full-scale sine reads 0 dBFS. The window is a Kaiser window
with beta 20, whose side lobes lie below -150 dB: a Blackman-Harris window's
(-92 dB) would sit at the -90 dBFS threshold itself. Each test also measures an
ideal sine of the expected frequency the same way, to show that the window's
own leakage outside the excluded band stays far below the threshold.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import windows

from sfxcli.engines.library import pitch_shift, varispeed

SR = 44100
AMPLITUDE = 0.5  # -6 dBFS test tones
THRESHOLD_DBFS = -90.0
FFT_SIZE = 32768  # 0.74 s at 44.1 kHz; bins 1.35 Hz apart, main lobe about +-9 Hz wide
MEASURE_FROM_SECONDS = 0.25  # skip the first stretch, where the filter starts up
EXCLUDE_HZ = 60.0  # either side of the expected tone: its main lobe with room to spare


def _tone(frequency_hz: float, seconds: float) -> np.ndarray:
    return AMPLITUDE * np.sin(2 * np.pi * frequency_hz * np.arange(int(seconds * SR)) / SR)


def _spectrum_dbfs(audio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    start = int(MEASURE_FROM_SECONDS * SR)
    middle = audio[start : start + FFT_SIZE]
    assert len(middle) == FFT_SIZE
    window = windows.kaiser(FFT_SIZE, 20.0)
    magnitude = np.abs(np.fft.rfft(middle * window)) * 2 / window.sum()
    return np.fft.rfftfreq(FFT_SIZE, 1 / SR), 20 * np.log10(np.maximum(magnitude, 1e-15))


def _worst_outside(audio: np.ndarray, band_hz: tuple[float, float] | None) -> tuple[float, float]:
    """The strongest component outside ``band_hz`` (widened by EXCLUDE_HZ), in dBFS, and where it is."""
    freqs, level = _spectrum_dbfs(audio)
    outside = np.ones_like(freqs, dtype=bool)
    if band_hz is not None:
        outside = (freqs < band_hz[0] - EXCLUDE_HZ) | (freqs > band_hz[1] + EXCLUDE_HZ)
    worst = int(np.argmax(np.where(outside, level, -np.inf)))
    return float(level[worst]), float(freqs[worst])


def _bend(frequency_hz: float, rate: np.ndarray) -> np.ndarray:
    """A tone read at ``rate`` by the engine's varispeed, from as much input as the engine hands it."""
    out = varispeed(_tone(frequency_hz, (np.ceil(rate.sum()) + 2) / SR), rate)
    assert len(out) == len(rate)
    return out


@pytest.mark.parametrize("frequency_hz,semitones", [(9000.0, 5.0), (18000.0, 7.0)])
def test_a_raised_tone_leaves_nothing_else(frequency_hz: float, semitones: float) -> None:
    rate = np.full(int(1.2 * SR), 2 ** (semitones / 12))
    expected_hz = frequency_hz * rate[0]
    out = _bend(frequency_hz, rate)
    band = (expected_hz, expected_hz) if expected_hz < SR / 2 else None  # moved above Nyquist: all of it must go
    worst_dbfs, at_hz = _worst_outside(out, band)
    assert worst_dbfs < THRESHOLD_DBFS, f"{worst_dbfs:.1f} dBFS at {at_hz:.0f} Hz"
    if band is not None:
        ideal = AMPLITUDE * np.sin(2 * np.pi * expected_hz * np.arange(len(out)) / SR)
        assert _worst_outside(ideal, band)[0] < THRESHOLD_DBFS - 30  # the window's leakage is not what is measured
        freqs, level = _spectrum_dbfs(out)
        near = np.abs(freqs - expected_hz) <= EXCLUDE_HZ
        assert level[near].max() > -6.0 - 1.0  # the tone itself is there, at its level (less scalloping)


def test_a_glide_leaves_nothing_outside_its_sweep() -> None:
    semitones = np.linspace(0.0, 5.0, int(1.2 * SR))
    rate = 2 ** (semitones / 12)
    out = _bend(9000.0, rate)
    lowest, highest = 9000.0 * rate.min(), 9000.0 * rate.max()
    worst_dbfs, at_hz = _worst_outside(out, (lowest, highest))
    assert worst_dbfs < THRESHOLD_DBFS, f"{worst_dbfs:.1f} dBFS at {at_hz:.0f} Hz"
    # the sweep itself is there: the middle of the measured stretch reads the tone at its level
    freqs, level = _spectrum_dbfs(out)
    assert level[(freqs > lowest) & (freqs < highest)].max() > -40.0


def test_a_glide_above_nyquist_is_silent() -> None:
    rate = 2 ** (np.linspace(4.0, 8.0, int(1.2 * SR)) / 12)  # 18 kHz swept from 22.7 to 28.6 kHz
    out = _bend(18000.0, rate)
    worst_dbfs, at_hz = _worst_outside(out, None)
    assert worst_dbfs < THRESHOLD_DBFS, f"{worst_dbfs:.1f} dBFS at {at_hz:.0f} Hz"


def test_varispeed_keeps_time_and_channels_and_is_repeatable() -> None:
    rng = np.random.default_rng(4)
    # a wandering pitch as the engine builds it: values per 10 ms frame, interpolated onto samples
    frames = np.cumsum(rng.normal(0, 0.3, 60))
    semitones = np.interp(np.arange(int(0.55 * SR)) / SR, np.arange(len(frames)) / 100, frames)
    rate = 2 ** (semitones / 12)
    stereo = rng.standard_normal((int(rate.sum()) + 2, 2))
    out = varispeed(stereo, rate)
    assert out.shape == (len(rate), 2)
    assert np.array_equal(out, varispeed(stereo, rate))
    assert np.array_equal(out[:, 1], varispeed(stereo[:, 1], rate))
    # it reads where the rate says: a 1 kHz tone read at this rate has the phase of its running sum
    # (one sample late would be an error of 0.07 here)
    tone = _tone(1000.0, (rate.sum() + 2) / SR)
    positions = np.concatenate([[0.0], np.cumsum(rate)[:-1]])
    expected = AMPLITUDE * np.sin(2 * np.pi * 1000.0 * positions / SR)
    assert np.max(np.abs(varispeed(tone, rate) - expected)[:-1000]) < 0.02 * AMPLITUDE


def test_pitch_shift_removes_what_it_raises_above_nyquist() -> None:
    tone = _tone(18000.0, 1.5)
    out = pitch_shift(tone, np.full(len(tone), 7.0), SR)
    assert len(out) == len(tone)
    worst_dbfs, at_hz = _worst_outside(out, None)
    assert worst_dbfs < THRESHOLD_DBFS, f"{worst_dbfs:.1f} dBFS at {at_hz:.0f} Hz"
