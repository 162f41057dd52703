"""The library engine: real recordings, bent to the performance.

For each variation it picks one of the recordings that best match the label
(a different one, or a different region of one, per seed), then for every
event of the imitation (a stretch of sound between onsets and silences):

- places a region of the recording there, starting on one of the
  recording's own attacks when the event starts with an onset;
- extends it seamlessly when the event outlasts it: a gentle time stretch
  first, then loops of its sustained part joined with equal-power crossfades;
- follows the imitation's pitch contour where the imitation is pitched,
  relative to the take's median: by default the way a sampler does
  (varispeed: pitch and speed move together, which keeps transients intact;
  read through a band-limited resampler, so raising a bright recording
  folds nothing back below Nyquist), or with pedalboard's time-varying pitch shift at
  constant speed (``pitch_mode="shift"``);
- optionally layers a second recording under it.

The pipeline's post-processing then transfers the imitation's loudness
contour onto the result, as for every engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from sfxcli.analysis import Controls, analyse, resample
from sfxcli.engines.base import Render
from sfxcli.dsp import along_time, mono_sum
from sfxcli.errors import EngineUnavailableError
from sfxcli.library.lookup import Hit
from sfxcli.presets import Recipe
from sfxcli.request import PITCH_MODES

CROSSFADE_SECONDS = 0.03
MAX_STRETCH = 1.6  # slow a recording down at most this much before looping it
PITCH_LIMIT_SEMITONES = 12.0
DETUNE_SEMITONES = 1.5
FLATTEN = 0.8  # how much of a recording's own level contour gives way to the imitation's
ATTACK_SEARCH_SECONDS = 0.04  # how far past an analysed onset its attack may really begin
ATTACK_WITHIN_DB = 10.0  # an attack begins at the first millisecond this close to the loudest one after it
PREROLL_SECONDS = 0.002  # placed regions start this long before the attack (the 2 ms fade-in stays clear of it)
TAKE_ATTACK_FRAMES = 6  # how many frames into an event the take's own rise is looked for


@dataclass(frozen=True)
class Source:
    audio: np.ndarray  # at the render rate: (samples,) mono, or (samples, 2)
    onsets_seconds: np.ndarray
    active_start: float
    active_end: float
    body: np.ndarray  # the recording's sounding parts spliced together: material for sustains and loops


def _body(audio: np.ndarray, sample_rate: int, loudness_db: np.ndarray, frame_rate: int) -> np.ndarray:
    """Every run of sound (within 35 dB of the peak, at least 50 ms) joined with crossfades, gaps left out."""
    active = loudness_db > loudness_db.max() - 35
    runs, start = [], None
    for i, on in enumerate(np.append(active, False)):
        if on and start is None:
            start = i
        elif not on and start is not None:
            if i - start >= 5:
                runs.append(audio[int(start / frame_rate * sample_rate) : int(i / frame_rate * sample_rate)])
            start = None
    if not runs:
        return audio
    body = runs[0]
    for run in runs[1:]:
        body = _crossfade_join(body, run, int(CROSSFADE_SECONDS * sample_rate))
    return body


@lru_cache(maxsize=64)
def load_source(path: str, sample_rate: int, channels: int = 1) -> Source:
    """A recording ready to be placed: mono, or with ``channels`` 2 its stereo (a mono file twice); its
    attacks and sounding parts are found on the mono sum, so both channels are cut at the same places."""
    import soundfile as sf

    try:
        data, rate = sf.read(path, dtype="float64", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as error:
        raise EngineUnavailableError(f"cannot read library recording {path}: {error}") from None
    mono = data.mean(axis=1)
    curves = analyse(mono, rate)
    audible = np.flatnonzero(curves.loudness_db > curves.loudness_db.max() - 40)
    start = audible[0] / curves.frame_rate if len(audible) else 0.0
    end = (audible[-1] + 1) / curves.frame_rate if len(audible) else len(mono) / rate
    if channels == 1:
        audio = resample(mono, rate, sample_rate)
    else:
        stereo = data[:, :2] if data.shape[1] >= 2 else np.repeat(data[:, :1], 2, axis=1)
        audio = resample(stereo, rate, sample_rate)
    audio = audio / (float(np.max(np.abs(audio))) or 1.0)
    analysed = curves.onsets_seconds if len(curves.onsets_seconds) else np.array([start])
    onsets = np.unique([attack_start(mono_sum(audio), sample_rate, float(t)) for t in analysed])
    return Source(audio, onsets, start, end, _body(audio, sample_rate, curves.loudness_db, curves.frame_rate))


def attack_start(mono: np.ndarray, sample_rate: int, near_seconds: float) -> float:
    """Where the attack that analysis put near ``near_seconds`` (10 ms frames) really begins, in seconds.

    The first millisecond within ATTACK_WITHIN_DB of the loudest one in the
    next ATTACK_SEARCH_SECONDS, less PREROLL_SECONDS: a region cut there keeps
    the whole attack, and the attack lands where the region is placed.
    """
    from sfxcli.analysis import frame_loudness_db

    first = max(int((near_seconds - 0.01) * sample_rate), 0)
    window = mono[first : first + int((ATTACK_SEARCH_SECONDS + 0.01) * sample_rate)]
    if len(window) < sample_rate // 500:
        return max(near_seconds - PREROLL_SECONDS, 0.0)
    envelope = frame_loudness_db(window, sample_rate, 1000)
    onset_ms = int(np.flatnonzero(envelope >= envelope.max() - ATTACK_WITHIN_DB)[0])
    return max(first / sample_rate + onset_ms / 1000 - PREROLL_SECONDS, 0.0)


def take_attack(controls: Controls, start_s: float) -> float:
    """When the take's own rise arrives in an event that starts with an onset: the start of the first
    frame within 6 dB of the loudest of its first TAKE_ATTACK_FRAMES (the event starts where the level
    crosses the gate, often a frame or two before the take's attack)."""
    first = int(round(start_s * controls.frame_rate))
    gain = controls.gain[first : first + TAKE_ATTACK_FRAMES]
    if len(gain) == 0:
        return start_s
    return (first + int(np.flatnonzero(gain >= 0.5 * gain.max())[0])) / controls.frame_rate


@dataclass(frozen=True)
class EventGate:
    """Which stretches of the take become events, each played by a region of a recording.

    Where the take sounds and no recording plays, the result is digital
    silence that no envelope follow can raise: a stretch of the take left
    out costs more than one played quietly.
    """

    level: float = 0.05  # the take sounds where its level (0..1 over its own range) is above this
    floor_db: float | None = None  # and, if set, wherever its gain is above this (dB re its peak)
    min_seconds: float = 0.01  # shorter stretches are dropped (one frame: none is)


# chosen by leave-one-out over the shared imitations among a few gates (bench/library.py --tune)
EVENT_GATE = EventGate(floor_db=-42.0, min_seconds=0.02)


def events(controls: Controls, gate: EventGate | None = None) -> list[tuple[float, float, bool]]:
    """(start, end, starts_with_onset) of each stretch of sound in the imitation."""
    gate = gate or EVENT_GATE
    fr = controls.frame_rate
    active = controls.level > gate.level
    if gate.floor_db is not None:
        active |= controls.gain > 10 ** (gate.floor_db / 20)
    onset_frames = set(np.round(controls.onsets_seconds * fr).astype(int).tolist())
    min_frames = max(1, int(round(gate.min_seconds * fr)))
    out: list[tuple[float, float, bool]] = []
    start = None
    for i in range(len(active) + 1):
        on = i < len(active) and active[i]
        # a new event at an onset, unless the current one only just began (one attack, not two)
        split = on and start is not None and any(abs(i - f) <= 1 for f in onset_frames) and i - start > 10
        if start is not None and (not on or split):
            if i - start >= min_frames:
                out.append((start / fr, i / fr, any(abs(start - f) <= 3 for f in onset_frames)))
            start = None
        if on and start is None:
            start = i
    return out


def _crossfade_join(a: np.ndarray, b: np.ndarray, fade: int) -> np.ndarray:
    fade = min(fade, len(a), len(b))
    if fade < 2:
        return np.concatenate([a, b])
    t = np.linspace(0, np.pi / 2, fade)
    joint = a[-fade:] * along_time(np.cos(t), a) + b[:fade] * along_time(np.sin(t), b)
    return np.concatenate([a[:-fade], joint, b[fade:]])


def extend(segment: np.ndarray, loop: np.ndarray, length: int, sample_rate: int) -> np.ndarray:
    """``segment`` continued with loops of ``loop`` until ``length`` samples, crossfaded."""
    fade = int(CROSSFADE_SECONDS * sample_rate)
    out = segment
    while len(out) < length and len(loop) > 2 * fade:
        out = _crossfade_join(out, loop, fade)
    return out[:length] if len(out) >= length else _pad_to(out, length)


def _pad_to(audio: np.ndarray, length: int) -> np.ndarray:
    """Silence appended (every channel) up to ``length`` samples."""
    return np.pad(audio, (0, length - len(audio)) if audio.ndim == 1 else ((0, length - len(audio)), (0, 0)))


def _stretch(segment: np.ndarray, sample_rate: int, **options: Any) -> np.ndarray:
    """pedalboard's Rubber Band stretcher on mono or (samples, channels) audio."""
    import pedalboard

    planar = segment.astype(np.float32)[None, :] if segment.ndim == 1 else segment.T.astype(np.float32)
    out = np.asarray(pedalboard.time_stretch(planar, sample_rate, **options), dtype=np.float64)
    return out[0] if segment.ndim == 1 else out.T


def _region(source: Source, sample_rate: int, length: int, on_attack: bool, rng: np.random.Generator,
            lead: int = 0) -> tuple[np.ndarray, int]:
    """``length`` samples of the recording, and where in them its attack is. With ``on_attack`` the region
    opens with up to ``lead`` samples of what precedes one of the recording's attacks (as much as the
    recording has: never silence of its own), so that the attack comes that far in."""
    if on_attack:  # start on one of the recording's own attacks, then carry on through its sounding parts
        attack = int(float(rng.choice(source.onsets_seconds)) * sample_rate)
        first, end = max(attack - lead, 0), attack + int(0.25 * sample_rate)
        head = source.audio[first:end]
        if len(head) >= length:
            return head[:length], attack - first
        after = _locate(source, min(end, len(source.audio)), sample_rate)
        segment = _crossfade_join(head, source.body[after:], int(CROSSFADE_SECONDS * sample_rate))
        at = attack - first
    else:
        audio = source.body
        start = int(rng.uniform(0, max(len(audio) - length, 0)))
        segment = audio[start : start + length]
        at = 0
    if len(segment) >= length:
        return segment[:length], at
    # too short: first slow it down a little, then loop its sustained part
    need = length / max(len(segment), 1)
    if 1.0 < need <= MAX_STRETCH * 1.05 and len(segment) > 2048:
        segment = _stretch(segment, sample_rate, stretch_factor=1.0 / need)
        at = int(at * need)  # where the stretch moved the attack to
        if len(segment) >= length:
            return segment[:length], at
    loop = source.body[int(0.4 * len(source.body)) :]
    return extend(segment, loop, length, sample_rate), at


def _locate(source: Source, sample: int, sample_rate: int) -> int:
    """Where in the spliced body the recording's ``sample`` roughly falls (by share of sounding time)."""
    share = sample / max(len(source.audio), 1)
    return min(int(share * len(source.body)), max(len(source.body) - 1, 0))


def pitch_rate(controls: Controls, start_s: float, n_samples: int, sample_rate: int) -> tuple[np.ndarray | None, float]:
    """Playback rate per sample that follows the imitation's pitch over one event (None when unpitched)."""
    fr = controls.frame_rate
    first = int(start_s * fr)
    frames = slice(first, first + int(np.ceil(n_samples / sample_rate * fr)) + 1)
    voiced = controls.voicing[frames] > 0.6
    if len(voiced) == 0 or voiced.mean() < 0.5:
        return None, 0.0
    semis = np.clip(controls.pitch_semitones[frames], -PITCH_LIMIT_SEMITONES, PITCH_LIMIT_SEMITONES)
    curve = np.interp(np.arange(n_samples) / sample_rate, np.arange(len(semis)) / fr, semis)
    if np.max(np.abs(curve)) < 0.25:
        return None, 0.0
    return 2.0 ** (curve / 12.0), float(np.median(curve))


def flatten(segment: np.ndarray, sample_rate: int, strength: float, keep_attack_seconds: float) -> np.ndarray:
    """Take out most of the recording's own level contour so the imitation's can replace it.

    The 10 ms level is pulled ``strength`` of the way to its median (boosts
    capped at 12 dB, so a recording's noise floor is not raised into hiss); the first
    ``keep_attack_seconds`` keep their natural attack.
    """
    from sfxcli.analysis import FRAME_RATE, frame_loudness_db
    from sfxcli.dsp import frame_gain, moving_average

    levels = frame_loudness_db(mono_sum(segment), sample_rate)
    if len(levels) < 3:
        return segment
    # a slow gain (90 ms) so the ride does not modulate the recording into rumble and hiss
    smooth = moving_average(levels, 9)
    loud = smooth > smooth.max() - 60
    reference = float(np.median(smooth[loud])) if loud.any() else float(smooth.max())
    gain_db = np.clip(strength * (reference - smooth), -36.0, 12.0)
    keep = int(keep_attack_seconds * FRAME_RATE)
    gain_db[:keep] = np.minimum(gain_db[:keep], 0.0)
    return segment * along_time(frame_gain(gain_db, len(segment), sample_rate, FRAME_RATE), segment)


def pitch_shift(segment: np.ndarray, semitones: np.ndarray, sample_rate: int) -> np.ndarray:
    """Time-varying pitch shift at constant speed (pedalboard's Rubber Band stretcher)."""
    out = _stretch(segment, sample_rate, stretch_factor=1.0,
                   pitch_shift_in_semitones=semitones.astype(np.float64))[: len(segment)]
    return _pad_to(out, len(segment))


VARISPEED_BLOCK = 64  # output samples per ratio step (libsamplerate ramps the ratio linearly within a step)
VARISPEED_CHUNK = 4096  # input samples handed to the resampler at a time


def varispeed(segment: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Read ``segment`` at a time-varying speed, as a sampler does: pitch and speed move together.

    ``rate[k]`` is how many input samples output sample ``k`` advances. The
    reading is band-limited (libsamplerate's best sinc converter, its ratio
    ramped block by block), so what a faster reading would push above Nyquist
    is filtered out rather than folded back as aliases. ``segment`` must hold
    at least ``sum(rate)`` samples; the result has ``len(rate)`` samples.
    """
    import samplerate

    n = len(rate)
    channels = 1 if segment.ndim == 1 else segment.shape[1]
    if n == 0:
        return np.zeros((0,) if segment.ndim == 1 else (0, channels))
    audio = np.ascontiguousarray(segment, dtype=np.float32)
    chunks = iter([audio[i : i + VARISPEED_CHUNK] for i in range(0, len(audio), VARISPEED_CHUNK)])
    reader = samplerate.CallbackResampler(lambda: next(chunks, None), 1.0 / float(rate[0]), "sinc_best", channels)
    reader.set_starting_ratio(1.0 / float(rate[0]))
    blocks, done = [], 0
    while done < n:
        size = min(VARISPEED_BLOCK, n - done)
        reader.ratio = 1.0 / float(rate[min(done + size, n - 1)])  # libsamplerate's ratio: output / input rate
        block = reader.read(size)
        if len(block) == 0:
            break
        blocks.append(block)
        done += len(block)
    out = np.concatenate(blocks).astype(np.float64) if blocks else np.zeros(0)
    out = out.reshape(-1) if segment.ndim == 1 else out.reshape(-1, channels)
    return _pad_to(out, n)[:n]


class LibraryEngine:
    """Conforms library recordings to the imitation. ``hits`` come from ``library.lookup.lookup``."""

    name = "library"

    def __init__(self, root: Path, hits: list[Hit], layers: int = 1, pitch_mode: str = "varispeed") -> None:
        if pitch_mode not in PITCH_MODES:
            raise EngineUnavailableError(f"unknown pitch mode {pitch_mode!r}; use one of {', '.join(PITCH_MODES)}")
        self.pitch_mode = pitch_mode
        if not hits:
            raise EngineUnavailableError("no recording in the library matches this label")
        best = hits[0].score
        self.root = root
        self.hits = [h for h in hits if h.score >= 0.7 * best][:6]
        self.layers = max(1, min(layers, 2))

    def render(self, controls: Controls, recipe: Recipe, seed: int, sample_rate: int,
               duration_seconds: float, channels: int = 1) -> Render:
        rng = np.random.default_rng([seed, 0x11B])
        n = max(1, int(round(duration_seconds * sample_rate)))
        weights = np.array([c.score for c in self.hits])
        order = rng.choice(len(self.hits), size=min(self.layers, len(self.hits)), replace=False,
                           p=weights / weights.sum())
        mix = np.zeros(n) if channels == 1 else np.zeros((n, channels))
        used: list[dict[str, Any]] = []
        tail = int(0.3 * sample_rate)
        # like a sampler's round robin: each variation plays a little higher or lower
        detune = float(rng.uniform(-DETUNE_SEMITONES, DETUNE_SEMITONES))
        attacks: list[float] = []  # where the first layer's recording has its attacks (seconds)
        for layer, index in enumerate(order):
            hit = self.hits[int(index)]
            source = load_source(str(self.root / hit.entry.path), sample_rate, channels)
            track = np.zeros_like(mix)
            shifts = []
            for start_s, end_s, on_attack in events(controls):
                start = int(start_s * sample_rate)
                length = min(int((end_s - start_s) * sample_rate) + tail, n - start)
                if length <= 0:
                    continue
                # the recording's attack lands on the take's own rise, which often comes a frame or two after
                # the event opens; the recording's lead-up to its attack fills the gap
                lead = min(int((take_attack(controls, start_s) - start_s) * sample_rate), length) if on_attack else 0
                rate, shift = pitch_rate(controls, start_s, length, sample_rate)
                if self.pitch_mode == "varispeed":
                    rate = (np.ones(length) if rate is None else rate) * 2 ** (detune / 12)
                    region, at = _region(source, sample_rate, int(np.ceil(rate.sum())) + 2, on_attack, rng,
                                         int(rate[:lead].sum()))
                    segment = varispeed(region, rate)
                    at = int(np.searchsorted(np.cumsum(rate), at))  # where the attack is read out
                else:  # "shift": pitch moves, timing and formants stay (slower, smoother on voices and tones)
                    segment, at = _region(source, sample_rate, length, on_attack, rng, lead)
                    semis = np.full(length, detune) if rate is None else 12 * np.log2(rate) + detune
                    segment = pitch_shift(segment, semis, sample_rate)
                segment = flatten(segment, sample_rate, FLATTEN, at / sample_rate + 0.05 if on_attack else 0.0)
                if on_attack and layer == 0:
                    attacks.append(round((start + at) / sample_rate + PREROLL_SECONDS, 4))
                shifts.append(round(shift, 2))
                fade_in = int((0.002 if on_attack else 0.01) * sample_rate)  # 2 ms keeps an attack crisp without a click
                segment = segment.copy()
                segment[: min(fade_in, len(segment))] *= along_time(np.linspace(0, 1, min(fade_in, len(segment))), segment)
                fade_out = min(tail, len(segment))
                segment[-fade_out:] *= along_time(np.linspace(1, 0, fade_out) ** 2, segment)
                track[start : start + len(segment)] += segment
            mix += track * (1.0 if layer == 0 else 0.5)
            used.append({"path": hit.entry.path, "label": hit.entry.label, "licence": hit.entry.licence,
                         "author": hit.entry.author,
                         "score": round(hit.score, 3), "why": hit.why, "detune_semitones": round(detune, 3),
                         "pitch_follow_median_semitones": shifts})
        peak = float(np.max(np.abs(mix)))
        mix = mix / peak * 0.5 if peak > 0 else mix
        return Render(audio=mix, sample_rate=sample_rate,
                      params={"library": str(self.root), "pitch_mode": self.pitch_mode, "recordings": used},
                      attacks_seconds=tuple(attacks))
