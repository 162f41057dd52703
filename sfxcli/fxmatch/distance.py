"""How alike two sounds' processing is: level-matched multi-resolution STFT and MFCC distances, and the frame spectra both use.

Everything here runs at ``RATE`` (22.05 kHz) on mono arrays. Both distances
first bring the two sounds to the same RMS level, so a chain's overall gain
never counts (sfx levels every result at the end).

- ``stft_distance``: spectral convergence plus mean absolute log-magnitude
  difference, averaged over 256, 1024 and 4096-point frames: short frames
  hear attacks and compression, long ones EQ and reverb colour. This is the
  distance the estimator's audio loss and the search both minimise.
- ``mfcc_distance``: mean absolute difference of MFCCs 1-19 per frame (c0,
  the level, left out): the timbre as a listener summarises it.
- ``mfcc_cosine``: cosine similarity of two sounds' standardised MFCC
  sequences where the first is active: the data pipeline's check that an
  effected clip is still the same sound.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.fft import dct

from sfxcli.match.features import N_FFT, RATE, mel_filters
from sfxcli.settings import DATA_DIR

STFT_SIZES = (256, 1024, 4096)
MEL_BANDS = 64
HOP = 256  # frame hop of the mel spectra at RATE: 11.6 ms
MFCC_COEFFS = 20
EPS = 1e-7


def level_matched(audio: np.ndarray) -> np.ndarray:
    """``audio`` scaled to unit RMS (silence left as it is)."""
    audio = np.asarray(audio, dtype=np.float64)
    rms = float(np.sqrt(np.mean(audio**2))) if audio.size else 0.0
    return audio / rms if rms > 1e-9 else audio


def _frames(audio: np.ndarray, size: int, hop: int) -> np.ndarray:
    padded = np.pad(audio, (size // 2, size // 2 + hop))
    return np.lib.stride_tricks.sliding_window_view(padded, size)[::hop]


def magnitudes(audio: np.ndarray, size: int) -> np.ndarray:
    """(frames, size // 2 + 1) STFT magnitudes, Hann window, hop size / 4."""
    return np.abs(np.fft.rfft(_frames(audio, size, size // 4) * np.hanning(size), axis=1))


def _same_length(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = max(len(a), len(b))
    return np.pad(a, (0, n - len(a))), np.pad(b, (0, n - len(b)))


def stft_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Level-matched multi-resolution STFT distance (0 for identical sounds; about 1-3 for unrelated ones)."""
    a, b = _same_length(level_matched(a), level_matched(b))
    return _distance(a, _spectra(b))


Spectra = tuple[tuple[np.ndarray, np.ndarray], ...]  # (magnitudes, log of magnitudes + EPS * size) per STFT size


def _spectra(b: np.ndarray) -> Spectra:
    out = []
    for size in STFT_SIZES:
        mb = magnitudes(b, size)
        out.append((mb, np.log(mb + EPS * size)))
    return tuple(out)


def _distance(a: np.ndarray, spectra: Spectra) -> float:
    total = 0.0
    for size, (mb, log_b) in zip(STFT_SIZES, spectra, strict=True):
        ma = magnitudes(a, size)
        convergence = np.linalg.norm(mb - ma) / max(float(np.linalg.norm(ma)), EPS)
        log_difference = float(np.mean(np.abs(np.log(ma + EPS * size) - log_b)))
        total += convergence + log_difference
    return float(total / len(STFT_SIZES))


@dataclass(frozen=True)
class Target:
    """A reference's level-matched STFT magnitudes at each size, computed once: a search or polish compares
    hundreds of renders with the same reference. ``distance(render)`` is ``stft_distance(render, reference)``."""

    length: int
    spectra: Spectra

    @classmethod
    def of(cls, reference: np.ndarray) -> Target:
        return cls(len(reference), _spectra(level_matched(reference)))

    def distance(self, audio: np.ndarray) -> float:
        a = level_matched(audio)
        if len(a) != self.length:
            raise ValueError(f"a render of {len(a)} samples against a reference of {self.length}")
        return _distance(a, self.spectra)


def log_mel_db(audio: np.ndarray) -> np.ndarray:
    """(frames, MEL_BANDS) mel energies in dB at HOP, for audio at RATE (absolute: 0 dB is a full-scale band)."""
    frames = _frames(np.asarray(audio, dtype=np.float64), N_FFT, HOP)
    power = np.abs(np.fft.rfft(frames * np.hanning(N_FFT), axis=1)) ** 2 / (N_FFT / 4) ** 2
    return 10.0 * np.log10(np.maximum(power @ mel_filters(MEL_BANDS).T, 1e-10))


def mfcc(audio: np.ndarray) -> np.ndarray:
    """(frames, MFCC_COEFFS) MFCCs of level-matched audio at RATE (DCT-II of the log-mel frames)."""
    return dct(log_mel_db(level_matched(audio)) / 10.0, type=2, norm="ortho", axis=1)[:, :MFCC_COEFFS]


def mfcc_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of MFCCs 1-19 over frames (level-matched)."""
    a, b = _same_length(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
    return float(np.mean(np.abs(mfcc(a)[:, 1:] - mfcc(b)[:, 1:])))


def mfcc_cosine(dry: np.ndarray, other: np.ndarray) -> float:
    """Cosine similarity of two MFCC sequences (coefficients 1-19, each standardised by MFCC_STATS) over
    the frames where ``dry`` is within ACTIVE_DB of its loudest: how much ``other`` is still that sound.

    Same-clip pairs through random eq, compressor and reverb settings score a
    median of about 0.9; pairs of unrelated clips about 0 (90th percentile
    about 0.4), so a threshold near 0.4 tells them apart (``bench/fx.py --pipeline``).
    """
    return profile_cosine(mfcc_profile(dry), other)


def mfcc_profile(dry: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What ``profile_cosine`` compares against: the standardised MFCCs of ``dry`` and its active frames."""
    dry = np.asarray(dry, dtype=np.float64)
    mean, std = _mfcc_stats()
    db = log_mel_db(level_matched(dry))
    coefficients = (dct(db / 10.0, type=2, norm="ortho", axis=1)[:, 1:MFCC_COEFFS] - mean) / std
    level = db.max(axis=1)
    return coefficients, level > level.max() - ACTIVE_DB


def profile_cosine(profile: tuple[np.ndarray, np.ndarray], other: np.ndarray) -> float:
    """``mfcc_cosine`` against a dry sound's ``mfcc_profile`` (``other`` is cut or padded to its length)."""
    coefficients, active = profile
    mean, std = _mfcc_stats()
    n = (len(coefficients) - 1) * HOP
    other = np.asarray(other, dtype=np.float64)[:n]
    other = np.pad(other, (0, n - len(other)))
    mb = (mfcc(other)[:, 1:] - mean) / std
    ma, mb = coefficients[active].ravel(), mb[: len(coefficients)][active].ravel()
    denominator = float(np.linalg.norm(ma) * np.linalg.norm(mb))
    return float(ma @ mb / denominator) if denominator > 0 else 0.0


ACTIVE_DB = 40.0
MFCC_STATS = DATA_DIR / "fx" / "mfcc_stats.npz"


@lru_cache(maxsize=1)
def _mfcc_stats() -> tuple[np.ndarray, np.ndarray]:
    """Mean and spread of MFCCs 1-19 over real sound clips (``build_mfcc_stats``)."""
    with np.load(MFCC_STATS) as data:
        return data["mean"], data["std"]


def build_mfcc_stats(sounds: list[np.ndarray]) -> None:
    """Write MFCC_STATS from sounds at RATE:  python -m training.fx_pairs --mfcc-stats"""
    frames = np.concatenate([mfcc(sound)[:, 1:] for sound in sounds])
    MFCC_STATS.parent.mkdir(parents=True, exist_ok=True)
    np.savez(MFCC_STATS, mean=frames.mean(axis=0), std=np.maximum(frames.std(axis=0), 1e-3))
