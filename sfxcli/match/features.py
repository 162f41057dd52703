"""Offline audio features for the contrastive model: no weights, numpy and librosa only.

- ``imitation_frames``: a (frames, IMITATION_DIM) sequence at 25 frames/s of
  what a vocal imitation carries: level, pitch movement, voicing, brightness,
  onset strength and a coarse mel spectrum. The fusion attends over it.
- ``sound_vector``: a fixed SOUND_DIM summary of a sound: the same frame
  features pooled (mean, spread, peak), its level and pitch contours at 16
  points, a 64-band log-mel mean and spread, and its length.

Both are deterministic functions of the samples, so they are cached on disk
by file content.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from sfxcli.analysis import analyse, resample
from sfxcli.settings import DATA_DIR

FEATURE_VERSION = 2  # bump when any feature below changes: caches keyed on it are rebuilt
RATE = 22050
FRAME_RATE = 25  # imitation frames per second
MAX_FRAMES = 256  # longer takes are resampled in time to this many frames
COARSE_BANDS = 16
FINE_BANDS = 64
CONTOUR_POINTS = 16
FRAME_FEATURES = 5 + COARSE_BANDS
IMITATION_DIM = FRAME_FEATURES
CONTOUR_DIM = 5  # level, pitch, voicing, brightness, onset strength
SOUND_DIM = 3 * FRAME_FEATURES + 2 * CONTOUR_POINTS + 2 * FINE_BANDS + 1


def _log_mel(samples: np.ndarray, bands: int, n_frames: int) -> np.ndarray:
    """(n_frames, bands) log-mel energies in dB below the clip's loudest band, scaled to about 0..1."""
    hop = RATE // FRAME_RATE
    padded = np.pad(np.asarray(samples, dtype=np.float64), (N_FFT // 2, N_FFT // 2 + hop))  # centred frames
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::hop]
    power = np.abs(np.fft.rfft(frames * np.hanning(N_FFT), axis=1)) ** 2
    mel = power @ mel_filters(bands).T
    db = 10.0 * np.log10(np.maximum(mel, 1e-12))
    db = (np.maximum(db - db.max(), -80.0) + 80.0) / 80.0  # 0 .. 1, the loudest band-frame at 1
    if len(db) < n_frames:
        db = np.pad(db, ((0, n_frames - len(db)), (0, 0)))
    return db[:n_frames]


N_FFT = 2048
MEL_FILE = DATA_DIR / "mel_filters.npz"


@lru_cache(maxsize=None)
def mel_filters(bands: int) -> np.ndarray:
    """librosa's Slaney mel filterbank for RATE and N_FFT, shipped precomputed (importing librosa costs a second)."""
    with np.load(MEL_FILE) as data:
        return data[f"bands{bands}"]


def build_mel_filters() -> None:
    """Write the filterbanks from librosa:  python -m sfxcli.match.features"""
    from librosa.filters import mel

    np.savez(MEL_FILE, **{f"bands{b}": mel(sr=RATE, n_fft=N_FFT, n_mels=b, fmin=30.0, fmax=RATE / 2)
                          for b in (COARSE_BANDS, FINE_BANDS)})


def frame_features(samples: np.ndarray, sample_rate: int, spectrum: bool = True) -> np.ndarray:
    """(frames, FRAME_FEATURES) at FRAME_RATE, uncapped in length; only the CONTOUR_DIM contours without ``spectrum``."""
    return _frames_at_rate(resample(np.asarray(samples, dtype=np.float64), sample_rate, RATE), spectrum)


def _frames_at_rate(x: np.ndarray, spectrum: bool = True) -> np.ndarray:
    curves = analyse(x, RATE)
    step = curves.frame_rate // FRAME_RATE
    n = max(1, curves.n_frames // step)

    def pool(values: np.ndarray) -> np.ndarray:
        return values[: n * step].reshape(n, step).mean(axis=1) if len(values) >= step else values[:1].copy()

    loudness = pool(curves.loudness_db)
    level = np.clip((loudness - loudness.max()) / 60.0 + 1.0, 0.0, 1.0)
    voiced = curves.pitch_hz > 0
    median = np.median(curves.pitch_hz[voiced]) if voiced.any() else 0.0
    semitones = np.where(voiced, 12.0 * np.log2(np.maximum(curves.pitch_hz, 1.0) / max(median, 1.0)), 0.0)
    pitch = np.clip(pool(semitones) / 12.0, -2.0, 2.0)
    voicing = pool(curves.voicing)
    brightness = np.clip(np.log2(np.maximum(pool(curves.centroid_hz), 20.0) / 1000.0) / 3.0, -2.0, 2.0)
    novelty = np.clip(pool(curves.novelty), 0.0, 3.0)
    columns = [level, pitch, voicing, brightness, novelty] + ([_log_mel(x, COARSE_BANDS, n)] if spectrum else [])
    return np.column_stack(columns).astype(np.float32)


def _fit_length(frames: np.ndarray, length: int) -> np.ndarray:
    """Resample a (frames, features) sequence in time to ``length`` frames (linear)."""
    if len(frames) == length:
        return frames
    old = np.linspace(0.0, 1.0, len(frames))
    new = np.linspace(0.0, 1.0, length)
    return np.stack([np.interp(new, old, frames[:, i]) for i in range(frames.shape[1])], axis=1).astype(np.float32)


def imitation_frames(samples: np.ndarray, sample_rate: int, spectrum: bool = True) -> np.ndarray:
    """(frames <= MAX_FRAMES, IMITATION_DIM) float32; (frames, CONTOUR_DIM) without ``spectrum``."""
    frames = frame_features(samples, sample_rate, spectrum)
    return _fit_length(frames, MAX_FRAMES) if len(frames) > MAX_FRAMES else frames


def contour_frames(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """(frames <= MAX_FRAMES, CONTOUR_DIM): the imitation's frames without their spectrum."""
    return imitation_frames(samples, sample_rate, spectrum=False)


AUDIBLE_DB = 40.0  # the audible span of a take: frames within this of its loudest
AUDIBLE_MARGIN_FRAMES = 3


def audible_contour_frames(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """``contour_frames`` of the take's audible span only: silence before and after it is cut.

    Takes are often recorded, or padded, with seconds of silence around a
    short sound; this way an imitation is described by what it voices, not
    by how long the recorder ran.
    """
    frames = frame_features(samples, sample_rate, spectrum=False)
    loud = np.flatnonzero(frames[:, 0] > 1.0 - AUDIBLE_DB / 60.0)
    if loud.size:
        frames = frames[max(0, loud[0] - AUDIBLE_MARGIN_FRAMES): loud[-1] + 1 + AUDIBLE_MARGIN_FRAMES]
    return _fit_length(frames, MAX_FRAMES) if len(frames) > MAX_FRAMES else frames


def sound_vector(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """(SOUND_DIM,) float32 summary of a sound."""
    x = resample(np.asarray(samples, dtype=np.float64), sample_rate, RATE)
    frames = _frames_at_rate(x)
    sounding = frames[frames[:, 0] > 0.25] if np.any(frames[:, 0] > 0.25) else frames
    pooled = np.concatenate([sounding.mean(axis=0), sounding.std(axis=0), sounding.max(axis=0)])
    contours = np.concatenate([_fit_length(frames[:, :1], CONTOUR_POINTS)[:, 0],
                               _fit_length(frames[:, 1:2], CONTOUR_POINTS)[:, 0]])
    fine = _log_mel(x, FINE_BANDS, max(1, len(frames)))
    fine_sounding = fine[frames[:, 0] > 0.25] if np.any(frames[:, 0] > 0.25) else fine
    seconds = np.log2(max(len(samples) / sample_rate, 0.05)) / 5.0
    vector = np.concatenate([pooled, contours, fine_sounding.mean(axis=0), fine_sounding.std(axis=0), [seconds]])
    return vector.astype(np.float32)


if __name__ == "__main__":
    build_mel_filters()
