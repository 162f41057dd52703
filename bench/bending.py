"""Aliasing when the library engine bends a recording: test tones raised through varispeed and pitch shift.

For each tone, prints the strongest spectral component other than the
expected tone (everything, when the tone is raised above Nyquist), in dBFS
(a full-scale sine reads 0), from a Kaiser-windowed (beta 20) FFT of the
output's steady middle; beside it the same reading for plain linear
interpolation, the way a naive sampler reads, for comparison.

    python bench/bending.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from scipy.signal import windows

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402,F401

from sfxcli.engines.library import pitch_shift, varispeed  # noqa: E402

CASES = [(9000.0, 5.0), (18000.0, 7.0), (9000.0, (0.0, 5.0)), (18000.0, (4.0, 8.0))]
FFT_SIZE = 32768
EXCLUDE_HZ = 60.0


def linear(segment: np.ndarray, rate: np.ndarray) -> np.ndarray:
    positions = np.concatenate([[0.0], np.cumsum(rate)[:-1]])
    return np.interp(positions, np.arange(len(segment)), segment)


def worst_outside(audio: np.ndarray, sample_rate: int, band_hz: tuple[float, float] | None) -> tuple[float, float]:
    start = sample_rate // 4
    middle = audio[start : start + FFT_SIZE]
    window = windows.kaiser(len(middle), 20.0)
    level = 20 * np.log10(np.maximum(np.abs(np.fft.rfft(middle * window)) * 2 / window.sum(), 1e-15))
    freqs = np.fft.rfftfreq(len(middle), 1 / sample_rate)
    outside = np.ones_like(freqs, dtype=bool)
    if band_hz is not None:
        outside = (freqs < band_hz[0] - EXCLUDE_HZ) | (freqs > band_hz[1] + EXCLUDE_HZ)
    worst = int(np.argmax(np.where(outside, level, -np.inf)))
    return float(level[worst]), float(freqs[worst])


def main() -> None:
    print(f"{'rate':>6s} {'tone':>22s} {'varispeed (dBFS @ Hz)':>24s} {'linear interp':>20s} {'pitch shift':>20s}")
    for sample_rate in (44100, 48000):
        for frequency_hz, semitones in CASES:
            lo, hi = semitones if isinstance(semitones, tuple) else (semitones, semitones)
            rate = 2 ** (np.linspace(lo, hi, int(1.2 * sample_rate)) / 12)
            tone = 0.5 * np.sin(2 * np.pi * frequency_hz * np.arange(int(np.ceil(rate.sum())) + 2) / sample_rate)
            top, bottom = frequency_hz * rate.max(), frequency_hz * rate.min()
            nyquist = sample_rate / 2
            band = None if bottom >= nyquist else (bottom, min(top, nyquist))  # what may stay: the part below Nyquist
            start = time.perf_counter()
            bent = worst_outside(varispeed(tone, rate), sample_rate, band)
            seconds = time.perf_counter() - start
            naive = worst_outside(linear(tone, rate), sample_rate, band)
            shifted = worst_outside(pitch_shift(tone, 12 * np.log2(np.interp(np.arange(len(tone)), np.arange(len(rate)),
                                                                              rate)), sample_rate), sample_rate, band)
            name = f"{frequency_hz / 1000:g} kHz +{lo:g}" + (f"..{hi:g}" if hi != lo else "") + " st"
            print(f"{sample_rate:6d} {name:>22s} {bent[0]:8.1f} @ {bent[1]:7.0f} ({seconds:.2f} s)"
                  f" {naive[0]:8.1f} @ {naive[1]:7.0f} {shifted[0]:8.1f} @ {shifted[1]:7.0f}")


if __name__ == "__main__":
    main()
