"""Small signal helpers shared by the engine and post-processing (numpy only)."""

from __future__ import annotations

import numpy as np


def fft_convolve(signal: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Linear convolution by FFT, truncated to ``len(signal)``."""
    if len(kernel) == 0 or len(signal) == 0:
        return np.zeros_like(signal)
    size = len(signal) + len(kernel) - 1
    n_fft = 1 << int(np.ceil(np.log2(size)))
    out = np.fft.irfft(np.fft.rfft(signal, n_fft) * np.fft.rfft(kernel, n_fft), n_fft)
    return out[: len(signal)]


def moving_average(x: np.ndarray, width: int) -> np.ndarray:
    """Centred moving average of ``width`` points, edges held; same length as ``x``."""
    if width <= 1:
        return x
    padded = np.pad(x, (width // 2, width - 1 - width // 2), mode="edge")
    return np.convolve(padded, np.ones(width) / width, mode="valid")


def frame_gain(gain_db: np.ndarray, n_samples: int, sample_rate: int, frame_rate: int) -> np.ndarray:
    """Per-frame gains in dB as a linear gain per sample.

    Frame i covers samples [i*hop, (i+1)*hop), so its value sits at its centre,
    i + 0.5 frames; between centres the dB value is interpolated linearly and
    held beyond the first and last.
    """
    centres = np.arange(len(gain_db)) + 0.5
    positions = np.arange(n_samples) * (frame_rate / sample_rate)
    return 10 ** (np.interp(positions, centres, gain_db) / 20)


def frames_to_samples(curve: np.ndarray, frame_rate: int, sample_rate: int, n_samples: int) -> np.ndarray:
    """Linear interpolation of a per-frame curve (frame i at i/frame_rate s) onto samples."""
    times = np.arange(n_samples) * (frame_rate / sample_rate)
    return np.interp(times, np.arange(len(curve)), curve)


def smooth_noise(rng: np.random.Generator, n_samples: int, rate_hz: float, sample_rate: int) -> np.ndarray:
    """Random curve of unit std that changes about ``rate_hz`` times a second."""
    points = max(2, int(np.ceil(n_samples * rate_hz / sample_rate)) + 2)
    knots = rng.standard_normal(points)
    return np.interp(np.arange(n_samples) * (rate_hz / sample_rate), np.arange(points), knots)


def spectral_filter(signal: np.ndarray, sample_rate: int, response) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Zero-phase static filter: multiply the spectrum by ``response(freqs_hz)``."""
    n_fft = 1 << int(np.ceil(np.log2(max(len(signal), 2))))
    spectrum = np.fft.rfft(signal, n_fft)
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    return np.fft.irfft(spectrum * response(freqs), n_fft)[: len(signal)]


def decay(n_samples: int, sample_rate: int, time_constant_seconds: float) -> np.ndarray:
    t = np.arange(n_samples) / sample_rate
    return np.exp(-t / max(time_constant_seconds, 1e-5))


def mono_sum(audio: np.ndarray) -> np.ndarray:
    """What level measures and scores listen to: the audio itself, or the mean of its channels."""
    return audio if audio.ndim == 1 else audio.mean(axis=1)


def along_time(gain: np.ndarray, audio: np.ndarray) -> np.ndarray:
    """A per-sample gain shaped to multiply ``audio`` (every channel alike)."""
    return gain if audio.ndim == 1 else gain[:, None]
