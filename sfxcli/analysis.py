"""Analyse an imitation into control curves at a fixed frame rate.

Pure functions on arrays. Everything runs at ``ANALYSIS_RATE`` after a
polyphase resample, so the cost and the behaviour do not depend on the rate
the imitation was recorded at. Curves are sampled every ``hop`` (10 ms): frame
``i`` describes the audio around ``i / frame_rate`` seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

ANALYSIS_RATE = 16000
FRAME_RATE = 100  # frames per second: 10 ms hop
FLOOR_DB = -120.0
PITCH_MIN_HZ = 60.0
PITCH_MAX_HZ = 1000.0


@dataclass(frozen=True)
class OnsetConfig:
    """When a frame starts a new event: a jump in band energies backed by a rise in level, or a new note.

    Band energies are smoothed over ``smooth_frames`` and compared with the
    highest value ``lag_frames`` back: a steady texture (a creak's pulses, a
    fire's crackle) stays near its own recent peak and does not trigger; a new
    event rising out of a quieter moment does: a band rise of
    ``min_band_rise_db`` counts where the level rose by ``min_level_rise_db``
    over the same lag (one of ``min_band_rise_alone_db`` counts on its own). A
    voice also starts events without getting louder: a sung note that changes
    pitch legato. So a frame where the pitch steps (``pitch_jump``, over
    ``pitch_window_frames`` each side) by ``min_pitch_jump_semitones`` to
    ``max_pitch_jump_semitones`` is an onset too, unless the level falls by
    more than ``max_level_fall_db`` across it (a note dying away).

    The defaults were chosen by bench/tune_onsets.py on espeak-ng, synthesised
    and real takes against their known (or marked) onsets, as the setting whose
    worst set scores best; it prints the leave-one-out figures.
    """

    smooth_frames: int = 3
    lag_frames: tuple[int, int] = (3, 5)
    min_band_rise_db: float = 6.0
    min_level_rise_db: float = 8.0
    min_pitch_jump_semitones: float = 2.0
    max_pitch_jump_semitones: float = 10.0  # larger steps are taken for octave slips of the tracker
    pitch_window_frames: int = 10
    max_level_fall_db: float = 3.0  # a pitch step where the level falls by more is a note ending, not one starting
    min_band_rise_alone_db: float = 12.0
    min_interval_seconds: float = 0.12
    first_of_cluster: bool = True  # of onsets closer than min_interval_seconds keep the first (else the strongest)
    window_seconds: float = 0.02  # an onset is the strongest rise within +- this
    relative_floor_db: float = -30.0  # ignore frames this far below the peak loudness


@dataclass(frozen=True)
class Curves:
    """Control curves of one signal, all of length ``n_frames``."""

    frame_rate: int
    loudness_db: np.ndarray  # frame RMS in dBFS, floored at FLOOR_DB
    pitch_hz: np.ndarray  # 0 where unvoiced
    voicing: np.ndarray  # 0..1 confidence that the frame is pitched
    centroid_hz: np.ndarray  # spectral centroid; interpolated through silence
    novelty: np.ndarray  # onset strength, >= 0
    onsets_seconds: np.ndarray

    @property
    def n_frames(self) -> int:
        return len(self.loudness_db)

    @property
    def times_seconds(self) -> np.ndarray:
        return np.arange(self.n_frames) / self.frame_rate


def resample(samples: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """High-quality resample (libsoxr) along the first axis."""
    if rate_in == rate_out:
        return np.asarray(samples, dtype=np.float64)
    import soxr

    return soxr.resample(np.asarray(samples, dtype=np.float64), int(rate_in), int(rate_out), quality="HQ")


def _frames(x: np.ndarray, size: int, hop: int, n_frames: int) -> np.ndarray:
    """Centred frames: frame i spans x[i*hop - size/2 : i*hop + size/2]."""
    padded = np.pad(x, (size // 2, size // 2 + hop * n_frames), mode="constant")
    return sliding_window_view(padded, size)[: hop * n_frames : hop]


def frame_loudness_db(samples: np.ndarray, sample_rate: int, frame_rate: int = FRAME_RATE) -> np.ndarray:
    """RMS level in dBFS of each 1/frame_rate frame (the evaluation curve)."""
    hop = int(round(sample_rate / frame_rate))
    n_frames = int(np.ceil(len(samples) / hop))
    padded = np.pad(np.asarray(samples, dtype=np.float64), (0, n_frames * hop - len(samples)))
    power = np.mean(padded.reshape(n_frames, hop) ** 2, axis=1)
    return np.maximum(10.0 * np.log10(power + 1e-30), FLOOR_DB)


def _band_matrix(n_bins: int, sample_rate: int, n_bands: int = 24) -> np.ndarray:
    """Triangular log-spaced bands (30 Hz .. Nyquist) as a (bins, bands) matrix."""
    freqs = np.linspace(0, sample_rate / 2, n_bins)
    edges = np.geomspace(30.0, sample_rate / 2, n_bands + 2)
    weights = np.zeros((n_bins, n_bands))
    for band in range(n_bands):
        lo, mid, hi = edges[band : band + 3]
        rising = (freqs - lo) / (mid - lo)
        falling = (hi - freqs) / (hi - mid)
        weights[:, band] = np.clip(np.minimum(rising, falling), 0, None)
    return weights / np.maximum(weights.sum(axis=0, keepdims=True), 1e-9)


_BANDS: dict[tuple[int, int], np.ndarray] = {}


def _pitch_yin(frames: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """YIN (cumulative mean normalised difference) on every frame at once."""
    size = frames.shape[1]
    tau_max = min(int(sample_rate / PITCH_MIN_HZ), size // 2)
    tau_min = max(int(sample_rate / PITCH_MAX_HZ), 2)
    x = frames - frames.mean(axis=1, keepdims=True)
    n_fft = 1 << int(np.ceil(np.log2(2 * size)))
    spec = np.fft.rfft(x, n_fft, axis=1)
    acf = np.fft.irfft(spec.real**2 + spec.imag**2, n_fft, axis=1)[:, : tau_max + 1]
    window = size - tau_max
    sq = np.concatenate([np.zeros((len(x), 1)), np.cumsum(x**2, axis=1)], axis=1)
    energy0 = sq[:, window] - sq[:, 0]
    taus = np.arange(tau_max + 1)
    energy_tau = sq[:, taus + window] - sq[:, taus]
    # acf over the full frame approximates the windowed one; YIN tolerates it.
    diff = energy0[:, None] + energy_tau - 2.0 * acf * (window / size)
    diff[:, 0] = 0.0
    cumulative = np.cumsum(diff[:, 1:], axis=1) / np.arange(1, tau_max + 1)
    cmnd = np.ones_like(diff)
    cmnd[:, 1:] = diff[:, 1:] / np.maximum(cumulative, 1e-12)
    search = cmnd[:, tau_min:]
    below = search < 0.2
    first = np.where(below.any(axis=1), below.argmax(axis=1), search.argmin(axis=1))
    # walk to the bottom of the dip that first crossed the threshold
    idx = np.arange(len(search))
    for _ in range(8):
        nxt = np.minimum(first + 1, search.shape[1] - 1)
        move = search[idx, nxt] < search[idx, first]
        first = np.where(move, nxt, first)
    tau = first + tau_min
    lo = cmnd[idx, np.maximum(tau - 1, 1)]
    mid = cmnd[idx, tau]
    hi = cmnd[idx, np.minimum(tau + 1, tau_max)]
    denom = lo - 2 * mid + hi
    shift = np.where(np.abs(denom) > 1e-12, 0.5 * (lo - hi) / np.where(denom == 0, 1, denom), 0.0)
    period = tau + np.clip(shift, -1, 1)
    confidence = np.clip(1.0 - mid, 0.0, 1.0)
    return sample_rate / period, confidence


def _fill_nan(values: np.ndarray, default: float) -> np.ndarray:
    ok = np.isfinite(values)
    if not ok.any():
        return np.full_like(values, default)
    idx = np.arange(len(values))
    return np.interp(idx, idx[ok], values[ok])


def _rise_over_recent(values: np.ndarray, lags: tuple[int, int], reduce: str) -> np.ndarray:
    """values[t] minus the max (or min) of values[t-lags[1] .. t-lags[0]] along axis 0."""
    lo, hi = lags
    first = values[:1].min(axis=0, keepdims=True) if values.ndim > 1 else values[:1]
    padded = np.concatenate([np.repeat(first, hi, axis=0), values], axis=0)
    n = len(values)
    shifted = np.stack([padded[hi - lag : hi - lag + n] for lag in range(lo, hi + 1)])
    recent = shifted.max(axis=0) if reduce == "max" else shifted.min(axis=0)
    return values - recent


@dataclass(frozen=True)
class OnsetInputs:
    """What onset detection reads from a signal, per frame."""

    frame_rate: int
    band_power: np.ndarray  # (frames, bands): power in 24 log-spaced bands
    loudness_db: np.ndarray  # frame RMS in dBFS
    pitch_hz: np.ndarray  # 0 where unvoiced


@dataclass(frozen=True)
class Novelty:
    """How much each frame differs from the moments before it; all of length ``n_frames``."""

    band_rise_db: np.ndarray  # mean rise of the smoothed bands over their recent peak, >= 0
    level_rise_db: np.ndarray  # level over its recent minimum
    pitch_jump_semitones: np.ndarray  # median pitch after the frame against before it; 0 unless both voiced
    level_step_db: np.ndarray  # mean level of the frames after the frame less that of the frames before (same window)


def _windowed_quartiles(values: np.ndarray, starts: np.ndarray, width: int, min_count: int) -> np.ndarray:
    """(median, interquartile range) of the finite VALUES in [start, start + width) for each start, as a
    (len(starts), 2) array; NaN where fewer than MIN_COUNT are finite."""
    padded = np.concatenate([np.full(width, np.nan), values, np.full(width, np.nan)])
    windows = np.sort(sliding_window_view(padded, width)[starts + width], axis=1)  # NaNs sort last
    count = np.isfinite(windows).sum(axis=1)
    last = np.maximum(count - 1, 0)

    def quantile(q: float) -> np.ndarray:
        position = last * q
        lo, frac = np.floor(position).astype(int), position - np.floor(position)
        below = np.take_along_axis(windows, lo[:, None], axis=1)[:, 0]
        above = np.take_along_axis(windows, np.minimum(lo + 1, last)[:, None], axis=1)[:, 0]
        return below + frac * (above - below)

    out = np.stack([quantile(0.5), quantile(0.75) - quantile(0.25)], axis=1)
    out[count < min_count] = np.nan
    return out


def pitch_jump(pitch_hz: np.ndarray, width: int) -> np.ndarray:
    """How far the pitch steps at each frame, in semitones: the median of the WIDTH frames after it against the
    median of the WIDTH before, less the spread (interquartile range) of each side, so that a steady glide or a
    wavering pitch scores near 0 and a change of note scores its interval. 0 unless both sides are mostly voiced."""
    n = len(pitch_hz)
    if n == 0:
        return np.zeros(0)
    semitones = np.where(pitch_hz > 0, 12.0 * np.log2(np.maximum(pitch_hz, 1e-6) / 100.0), np.nan)
    frames = np.arange(n)
    need = max(1, (width + 1) // 2)
    before = _windowed_quartiles(semitones, frames - width, width, need)
    after = _windowed_quartiles(semitones, frames + 1, width, need)
    jump = np.abs(after[:, 0] - before[:, 0]) - before[:, 1] - after[:, 1]
    return np.where(np.isfinite(jump), np.maximum(jump, 0.0), 0.0)


def onset_novelty(inputs: OnsetInputs, config: OnsetConfig) -> Novelty:
    """Band rise, level rise and pitch jump per frame (band and level rises are causal)."""
    band_power, loudness_db = inputs.band_power, inputs.loudness_db
    n = len(loudness_db)
    width = max(1, config.smooth_frames)
    cumulative = np.cumsum(np.vstack([np.zeros((1, band_power.shape[1])), band_power]), axis=0)
    start = np.maximum(np.arange(1, n + 1) - width, 0)
    smoothed = (cumulative[1:] - cumulative[start]) / (np.arange(1, n + 1) - start)[:, None]
    band_db = 10.0 * np.log10(smoothed + 1e-10)
    band_db = np.maximum(band_db, band_db.max() - 80.0)
    band_rise = np.maximum(_rise_over_recent(band_db, config.lag_frames, "max"), 0.0).mean(axis=1)
    level_rise = _rise_over_recent(loudness_db, config.lag_frames, "min")
    jump = pitch_jump(inputs.pitch_hz, config.pitch_window_frames) if np.isfinite(config.min_pitch_jump_semitones) \
        else np.zeros(n)
    return Novelty(band_rise, level_rise, jump, _level_step(loudness_db, config.pitch_window_frames))


def _level_step(loudness_db: np.ndarray, width: int) -> np.ndarray:
    """Mean level of the WIDTH frames after each frame less the mean of the WIDTH before (edges repeat)."""
    n = len(loudness_db)
    if n == 0:
        return np.zeros(0)
    padded = np.concatenate([np.full(width, loudness_db[0]), loudness_db, np.full(width, loudness_db[-1])])
    cumulative = np.concatenate([[0.0], np.cumsum(padded)])
    frames = np.arange(n) + width
    after = (cumulative[frames + 1 + width] - cumulative[frames + 1]) / width
    before = (cumulative[frames] - cumulative[frames - width]) / width
    return after - before


def _local_max(values: np.ndarray, half: int) -> np.ndarray:
    return sliding_window_view(np.pad(values, half, constant_values=-np.inf), 2 * half + 1).max(axis=1)


def onset_candidates(novelty: Novelty, loudness_db: np.ndarray, frame_rate: int,
                     config: OnsetConfig = OnsetConfig()) -> np.ndarray:
    """Frames that could start an event: a band rise backed by a level rise, or a step of pitch."""
    band_rise = novelty.band_rise_db
    if len(band_rise) == 0:
        return np.zeros(0, dtype=int)
    half = max(1, int(round(config.window_seconds * frame_rate)))
    jump = novelty.pitch_jump_semitones
    rising = (band_rise >= _local_max(band_rise, half)) & (
        ((band_rise >= config.min_band_rise_db) & (novelty.level_rise_db >= config.min_level_rise_db))
        | (band_rise >= config.min_band_rise_alone_db))
    stepping = (jump >= _local_max(jump, half)) & (jump >= config.min_pitch_jump_semitones) \
        & (jump <= config.max_pitch_jump_semitones) & (novelty.level_step_db >= -config.max_level_fall_db)
    return np.flatnonzero((rising | stepping) & (loudness_db > loudness_db.max() + config.relative_floor_db))


def merge_onsets(frames: np.ndarray, band_rise_db: np.ndarray, frame_rate: int,
                 config: OnsetConfig = OnsetConfig()) -> np.ndarray:
    """Onset times in seconds from candidate FRAMES: one per ``min_interval_seconds``."""
    min_gap = int(round(config.min_interval_seconds * frame_rate))
    kept: list[int] = []
    for frame in frames:
        if not kept or frame - kept[-1] >= min_gap:
            kept.append(int(frame))
        elif not config.first_of_cluster and band_rise_db[frame] > band_rise_db[kept[-1]]:
            kept[-1] = int(frame)
    # the causal smoothing delays the rise by about half its width
    delay = (max(1, config.smooth_frames) - 1) // 2
    return np.maximum(np.asarray(kept, dtype=np.float64) - delay, 0.0) / frame_rate


def pick_onsets(novelty: Novelty, loudness_db: np.ndarray, frame_rate: int,
                config: OnsetConfig = OnsetConfig()) -> np.ndarray:
    """Onset times in seconds from the novelty curves."""
    frames = onset_candidates(novelty, loudness_db, frame_rate, config)
    return merge_onsets(frames, novelty.band_rise_db, frame_rate, config)


def detect_onsets(inputs: OnsetInputs, config: OnsetConfig = OnsetConfig()) -> np.ndarray:
    """Onset times in seconds of the signal INPUTS describe."""
    return pick_onsets(onset_novelty(inputs, config), inputs.loudness_db, inputs.frame_rate, config)


def _curves(samples: np.ndarray, sample_rate: int) -> tuple[OnsetInputs, np.ndarray, np.ndarray]:
    """(onset inputs, voicing, centroid in Hz) of a mono signal, at ``FRAME_RATE``."""
    x = resample(np.asarray(samples, dtype=np.float64), sample_rate, ANALYSIS_RATE)
    sr = ANALYSIS_RATE
    hop = sr // FRAME_RATE
    n_frames = max(1, int(np.ceil(len(x) / hop)))
    loudness = frame_loudness_db(x, sr)[:n_frames]
    if len(loudness) < n_frames:
        loudness = np.pad(loudness, (0, n_frames - len(loudness)), constant_values=FLOOR_DB)

    size = 512
    frames = _frames(x, size, hop, n_frames)
    spectrum = np.abs(np.fft.rfft(frames * np.hanning(size), axis=1))
    freqs = np.fft.rfftfreq(size, 1.0 / sr)
    power = spectrum**2
    total = power.sum(axis=1)
    audible = loudness > max(loudness.max() - 50.0, -90.0)
    centroid = np.where(audible, (power @ freqs) / np.maximum(total, 1e-20), np.nan)
    centroid = _fill_nan(centroid, 1000.0)

    # Pitch lives below 1 kHz: track it at half rate, on 64 ms frames.
    half_rate = sr // 2
    x_half = resample(x, sr, half_rate)
    pitch, confidence = _pitch_yin(_frames(x_half, 512, hop // 2, n_frames), half_rate)
    voicing = np.where(audible, confidence, 0.0)
    voiced = (voicing > 0.6) & (pitch >= PITCH_MIN_HZ) & (pitch <= PITCH_MAX_HZ)
    pitch_hz = np.where(voiced, pitch, 0.0)

    key = (spectrum.shape[1], sr)
    if key not in _BANDS:
        _BANDS[key] = _band_matrix(*key)
    return OnsetInputs(FRAME_RATE, power @ _BANDS[key], loudness, pitch_hz), voicing, centroid


def onset_inputs(samples: np.ndarray, sample_rate: int) -> OnsetInputs:
    """The curves onset detection reads, for trying several ``OnsetConfig`` on one signal."""
    return _curves(samples, sample_rate)[0]


# the band rise that Curves.novelty carries: fixed, whatever the onset thresholds (the match model reads it)
_NOVELTY_CONFIG = OnsetConfig(smooth_frames=3, lag_frames=(3, 5))
DEFAULT_ONSET_CONFIG = OnsetConfig()  # what analyse() detects onsets with unless told otherwise


def analyse(samples: np.ndarray, sample_rate: int, onset_config: OnsetConfig | None = None) -> Curves:
    """Loudness, pitch + voicing, centroid and onsets of a mono signal (onsets by ``DEFAULT_ONSET_CONFIG`` when None)."""
    onset_config = DEFAULT_ONSET_CONFIG if onset_config is None else onset_config
    inputs, voicing, centroid = _curves(samples, sample_rate)
    novelty = onset_novelty(inputs, onset_config)
    band_rise = novelty.band_rise_db
    if (onset_config.smooth_frames, onset_config.lag_frames) != (_NOVELTY_CONFIG.smooth_frames, _NOVELTY_CONFIG.lag_frames):
        band_rise = onset_novelty(inputs, _NOVELTY_CONFIG).band_rise_db
    return Curves(
        frame_rate=inputs.frame_rate,
        loudness_db=inputs.loudness_db,
        pitch_hz=inputs.pitch_hz,
        voicing=voicing,
        centroid_hz=centroid,
        novelty=band_rise / 20.0,
        onsets_seconds=pick_onsets(novelty, inputs.loudness_db, inputs.frame_rate, onset_config),
    )


@dataclass(frozen=True)
class Controls:
    """Curves normalised into the ranges recipes map from (all per frame).

    ``level`` 0..1 follows loudness over the imitation's own dynamic range,
    ``gain`` is the linear amplitude to impose (peak 1), ``pitch_semitones``
    is relative to the imitation's median pitch (0 where it never pitches),
    ``brightness`` 0..1 spans the imitation's own centroid range.
    """

    frame_rate: int
    level: np.ndarray
    gain: np.ndarray
    pitch_semitones: np.ndarray
    voicing: np.ndarray
    brightness: np.ndarray
    onsets_seconds: np.ndarray
    onset_strengths: np.ndarray

    @property
    def n_frames(self) -> int:
        return len(self.level)

    @property
    def duration_seconds(self) -> float:
        return self.n_frames / self.frame_rate


def noise_floor_db(loudness_db: np.ndarray) -> float:
    """Level of the quietest stretch: the 10th percentile of frame levels."""
    return float(np.percentile(loudness_db, 10))


def controls_from_curves(curves: Curves, gate_range_db: float = 60.0) -> Controls:
    """Normalise analysis curves into recipe controls.

    Frames near the recording's noise floor are pushed down by a downward
    expander (slope 3 below a threshold 6 dB over the floor), so room noise
    between sounds does not become output, while the level above the floor
    keeps its shape.
    """
    loud = curves.loudness_db
    peak = float(loud.max())
    floor = max(noise_floor_db(loud), peak - gate_range_db)
    threshold = min(floor + 6.0, peak - 12.0)
    expanded = np.where(loud >= threshold, loud, threshold + 3.0 * (loud - threshold))
    expanded = np.maximum(expanded, peak - 90.0)
    gain = 10.0 ** ((expanded - peak) / 20.0)
    level = np.clip((expanded - threshold) / max(peak - threshold, 1e-6), 0.0, 1.0)

    voiced = curves.pitch_hz > 0
    if voiced.sum() >= 3:
        reference = float(np.median(curves.pitch_hz[voiced]))
        semis = np.where(voiced, 12.0 * np.log2(np.maximum(curves.pitch_hz, 1e-6) / reference), np.nan)
        semis = _fill_nan(semis, 0.0)
        semis = np.clip(_smooth(semis, 5), -24.0, 24.0)
    else:
        semis = np.zeros_like(loud)

    log_c = np.log2(np.maximum(curves.centroid_hz, 20.0))
    lo, hi = np.percentile(log_c, [5, 95])
    brightness = np.clip((log_c - lo) / max(hi - lo, 0.5), 0.0, 1.0)
    brightness = _smooth(brightness, 5)

    frames = np.clip(np.round(curves.onsets_seconds * curves.frame_rate).astype(int), 0, len(loud) - 1)
    strengths = np.array([level[f : f + 5].max() for f in frames]) if len(frames) else np.zeros(0)
    return Controls(
        frame_rate=curves.frame_rate,
        level=level,
        gain=gain,
        pitch_semitones=semis,
        voicing=curves.voicing,
        brightness=brightness,
        onsets_seconds=curves.onsets_seconds,
        onset_strengths=strengths,
    )


def _smooth(x: np.ndarray, width: int) -> np.ndarray:
    from sfxcli.dsp import moving_average

    return x if len(x) < width else moving_average(x, width)


def onset_f1(reference: np.ndarray, estimate: np.ndarray, tolerance_seconds: float = 0.05) -> float:
    """F-measure of onset times matched one-to-one within a tolerance.

    Two empty lists agree perfectly (1.0).
    """
    if len(reference) == 0 and len(estimate) == 0:
        return 1.0
    if len(reference) == 0 or len(estimate) == 0:
        return 0.0
    used = np.zeros(len(estimate), dtype=bool)
    hits = 0
    for onset in np.sort(reference):
        distance = np.where(used, np.inf, np.abs(estimate - onset))
        best = int(np.argmin(distance))
        if distance[best] <= tolerance_seconds:
            used[best] = True
            hits += 1
    precision = hits / len(estimate)
    recall = hits / len(reference)
    return 0.0 if hits == 0 else 2 * precision * recall / (precision + recall)


def loudness_correlation(reference: np.ndarray, estimate: np.ndarray, reference_rate: int, estimate_rate: int,
                         active_db: float = -50.0) -> float:
    """Pearson r of 10 ms frame levels (dBFS) where either signal is above ``active_db``."""
    a = frame_loudness_db(reference, reference_rate, FRAME_RATE)
    b = frame_loudness_db(estimate, estimate_rate, FRAME_RATE)
    n = min(len(a), len(b))
    a, b = a[:n], b[:n]
    active = (a > active_db) | (b > active_db)
    if active.sum() < 3:
        return 0.0
    a, b = np.maximum(a[active], -100.0), np.maximum(b[active], -100.0)
    if a.std() == 0 or b.std() == 0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def stretch_controls(controls: Controls, seconds: float) -> Controls:
    """The same performance spread over ``seconds``: every curve and onset scaled in time."""
    n_frames = max(2, int(round(seconds * controls.frame_rate)))
    factor = n_frames / controls.n_frames
    old = np.arange(controls.n_frames)
    new = np.linspace(0, controls.n_frames - 1, n_frames)

    def resample_curve(curve: np.ndarray) -> np.ndarray:
        return np.interp(new, old, curve)

    return Controls(
        frame_rate=controls.frame_rate,
        level=resample_curve(controls.level),
        gain=resample_curve(controls.gain),
        pitch_semitones=resample_curve(controls.pitch_semitones),
        voicing=resample_curve(controls.voicing),
        brightness=resample_curve(controls.brightness),
        onsets_seconds=controls.onsets_seconds * factor,
        onset_strengths=controls.onset_strengths,
    )
