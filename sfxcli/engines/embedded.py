"""The embedded engine: layered synthesis driven by the imitation's curves.

Each recipe is a stack of layers (tones, shaped noise, pulse trains, grains,
onset hits). Every layer maps the imitation's controls onto its own
parameters: pitch onto frequency or pulse rate, brightness onto filter
cut-off or harmonic tilt, loudness onto amplitude or event density, onsets
onto hits. Randomness comes only from the seed: parameters are drawn first,
then applied deterministically.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from sfxcli.analysis import Controls
from sfxcli.dsp import decay, fft_convolve, frames_to_samples, smooth_noise, spectral_filter
from sfxcli.engines.base import Render
from sfxcli.presets import (
    GrainLayer,
    HitLayer,
    Mapped,
    NoiseLayer,
    PulseLayer,
    Recipe,
    ToneLayer,
)

VOICED_SHARE_FOR_PITCH = 0.15


@dataclass(frozen=True)
class Draw:
    """The random choices of one variation, drawn from its seed."""

    pitch_semitones: float
    brightness_offset: float
    density_scale: float
    resonance_scales: tuple[float, ...]


class _Context:
    """Controls resampled to audio rate, shared by every layer of one render."""

    def __init__(self, controls: Controls, draw: Draw, sample_rate: int, n_samples: int) -> None:
        self.sample_rate = sample_rate
        self.n = n_samples
        self.controls = controls
        self.draw = draw
        fr = controls.frame_rate
        pad = max(0, int(np.ceil(n_samples * fr / sample_rate)) + 1 - controls.n_frames)

        def extend(curve: np.ndarray, tail: float | None = None) -> np.ndarray:
            return np.pad(curve, (0, pad), constant_values=curve[-1] if tail is None else tail)

        brightness = np.clip(extend(controls.brightness) + draw.brightness_offset, 0.0, 1.0)
        active = controls.level > 0.05
        voiced_share = float((controls.voicing[active] > 0.6).mean()) if active.any() else 0.0
        if voiced_share >= VOICED_SHARE_FOR_PITCH:
            pitch = np.clip((extend(controls.pitch_semitones) + 12.0) / 24.0, 0.0, 1.0)
            self.pitch_source = "pitch"
        else:  # unvoiced imitations ("shhh", "ksss") steer pitch with brightness
            pitch = brightness
            self.pitch_source = "brightness"
        self.frame_controls = {
            "level": extend(controls.level, 0.0),
            "pitch": pitch,
            "brightness": brightness,
            "none": np.full(controls.n_frames + pad, 0.5),
        }
        self.gain = frames_to_samples(extend(controls.gain, 0.0), fr, sample_rate, n_samples)
        self._audio: dict[str, np.ndarray] = {}
        self.t = np.arange(n_samples) / sample_rate

    def control(self, source: str) -> np.ndarray:
        if source not in self._audio:
            self._audio[source] = frames_to_samples(
                self.frame_controls[source], self.controls.frame_rate, self.sample_rate, self.n
            )
        return self._audio[source]

    def control_at(self, source: str, seconds: float) -> float:
        curve = self.frame_controls[source]
        frame = int(np.clip(round(seconds * self.controls.frame_rate), 0, len(curve) - 1))
        return float(curve[frame : frame + 3].mean())


def map_value(mapped: Mapped, control: np.ndarray | float) -> np.ndarray | float:
    """Geometric interpolation for positive ranges (Hz, rates), linear otherwise."""
    if mapped.low == mapped.high:
        return mapped.low if np.isscalar(control) else np.full_like(control, mapped.low)
    if mapped.low > 0 and mapped.high > 0:
        return mapped.low * (mapped.high / mapped.low) ** control
    return mapped.low + (mapped.high - mapped.low) * control


def _stft_filter(signal: np.ndarray, ctx: _Context, response) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Time-varying zero-phase filter by overlap-add STFT, one frame per control frame.

    ``response(freqs_hz, frame_index)`` returns a (frames, bins) gain matrix;
    frame ``j`` is centred on sample ``j * hop``.
    """
    sr, n = ctx.sample_rate, ctx.n
    hop = max(1, sr // ctx.controls.frame_rate)
    n_fft = 1 << int(np.ceil(np.log2(4 * hop)))
    n_frames = int(np.ceil(n / hop)) + 1
    padded = np.pad(signal, (n_fft // 2, n_frames * hop + n_fft // 2 - n))
    window = np.hanning(n_fft + 1)[:-1]
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[: n_frames * hop : hop] * window
    freqs = np.maximum(np.fft.rfftfreq(n_fft, 1.0 / sr), 10.0)
    gains = response(freqs, np.arange(n_frames))
    frames_out = np.fft.irfft(np.fft.rfft(frames, axis=1) * gains, n_fft, axis=1) * window
    out = np.zeros(len(padded))
    for j in range(n_frames):
        out[j * hop : j * hop + n_fft] += frames_out[j]
    # hann^2 overlap-added at hop = n_fft/4 sums to 1.5
    return out[n_fft // 2 : n_fft // 2 + n] / (1.5 * n_fft / (4 * hop))


def _frame_values(ctx: _Context, mapped: Mapped, source: str, frames: np.ndarray) -> np.ndarray:
    curve = ctx.frame_controls[source]
    return np.asarray(map_value(mapped, curve[np.minimum(frames, len(curve) - 1)]), dtype=float)


def _tone(layer: ToneLayer, ctx: _Context, rng: np.random.Generator) -> np.ndarray:
    sr, n = ctx.sample_rate, ctx.n
    shift = 2 ** (ctx.draw.pitch_semitones / 12)
    base = np.asarray(map_value(layer.frequency_hz, ctx.control(layer.frequency_from))) * shift
    if layer.vibrato_hz > 0 and layer.vibrato_semitones > 0:
        base = base * 2 ** (layer.vibrato_semitones * np.sin(2 * np.pi * layer.vibrato_hz * ctx.t) / 12)
    if layer.roughness > 0:
        base = base * 2 ** (layer.roughness * smooth_noise(rng, n, 60.0, sr) / 12)
    fm_index = map_value(layer.fm_index, ctx.control(layer.fm_from))
    harmonics = 1 if layer.waveform == "sine" else layer.harmonics
    odd_only = layer.waveform in ("square", "triangle")
    base_tilt = min(layer.tilt.low, layer.tilt.high) + (1.0 if layer.waveform == "triangle" else 0.0)
    out = np.zeros(n)
    voices = max(1, layer.voices)
    for voice in range(voices):
        offset = (voice - (voices - 1) / 2) / max(1, voices - 1) * layer.detune_cents if voices > 1 else 0.0
        freq = base * 2 ** (offset / 1200)
        phase = 2 * np.pi * np.cumsum(freq) / sr + rng.uniform(0, 2 * np.pi)
        if layer.fm_ratio > 0 and np.any(fm_index > 0):
            phase = phase + fm_index * np.sin(layer.fm_ratio * phase)
        if layer.inharmonicity == 0:
            # sin(k x) by the Chebyshev recurrence: one multiply-add per harmonic
            two_cos = 2 * np.cos(phase)
            previous, current, scratch = np.zeros(n), np.sin(phase), np.empty(n)
            nyquist, f_low, f_high = 0.45 * sr, float(freq.min()), float(freq.max())
            for k in range(1, harmonics + 1):
                if k > 1:  # sin(kx) = 2cos(x) sin((k-1)x) - sin((k-2)x), in place
                    np.multiply(two_cos, current, out=scratch)
                    np.subtract(scratch, previous, out=previous)
                    previous, current = current, previous
                if odd_only and k % 2 == 0:
                    continue
                if k * f_low >= nyquist:
                    break
                amp = (-1.0 if layer.waveform == "triangle" and (k // 2) % 2 == 1 else 1.0) * k ** (-base_tilt)
                if k * f_high < nyquist:  # audible throughout: no mask needed
                    out += amp * current
                else:
                    out += amp * np.where(k * freq < nyquist, current, 0.0)
        else:
            for k in range(1, harmonics + 1):
                stretch = k * np.sqrt(1 + layer.inharmonicity * k * k)
                audible = stretch * freq < 0.45 * sr
                if not audible.any():
                    break
                out += k ** (-base_tilt) * np.where(audible, np.sin(stretch * phase), 0.0)
    if layer.tilt.low != layer.tilt.high and harmonics > 1:
        # brightness moves the spectral slope above the fundamental
        hop = max(1, sr // ctx.controls.frame_rate)

        def response(freqs: np.ndarray, frames: np.ndarray) -> np.ndarray:
            extra = _frame_values(ctx, layer.tilt, layer.tilt_from, frames) - min(layer.tilt.low, layer.tilt.high)
            f0 = base[np.minimum(frames * hop, n - 1)]
            ratio = np.maximum(freqs[None, :] / f0[:, None], 1.0)
            return ratio ** (-extra[:, None])

        out = _stft_filter(out, ctx, response)
    if layer.am_depth > 0:
        am_rate = map_value(layer.am_hz, ctx.control(layer.am_from))
        am_phase = 2 * np.pi * np.cumsum(am_rate * np.ones(n)) / sr
        out *= 1 - layer.am_depth * (0.5 + 0.5 * np.sin(am_phase))
    return out


def _noise(layer: NoiseLayer, ctx: _Context, rng: np.random.Generator) -> np.ndarray:
    sr, n = ctx.sample_rate, ctx.n
    shift = 2 ** (ctx.draw.pitch_semitones / 12)
    tilt = {"white": 0.0, "pink": -0.5, "brown": -1.0}[layer.color]

    def response(freqs: np.ndarray, frames: np.ndarray) -> np.ndarray:
        cutoff = _frame_values(ctx, layer.cutoff_hz, layer.cutoff_from, frames) * shift
        ratio = freqs[None, :] / cutoff[:, None]
        if layer.shape == "band":
            sigma = max(layer.bandwidth_octaves, 0.05) / 2
            gains = np.exp(-0.5 * (np.log2(ratio) / sigma) ** 2)
        elif layer.shape == "lowpass":
            gains = 1 / np.sqrt(1 + ratio**4)
        else:
            gains = 1 / np.sqrt(1 + ratio ** -4.0)
        if layer.resonance_db > 0:
            peak = np.exp(-0.5 * (np.log2(ratio) / 0.12) ** 2)
            gains = gains * (1 + (10 ** (layer.resonance_db / 20) - 1) * peak)
        return gains * (freqs / 1000.0)[None, :] ** tilt

    out = _stft_filter(rng.standard_normal(n), ctx, response)
    if layer.flutter_depth > 0 and layer.flutter_hz > 0:
        out *= np.clip(1 + layer.flutter_depth * smooth_noise(rng, n, layer.flutter_hz, sr), 0.0, None)
    return out


def _resonator_kernel(freqs_hz: np.ndarray, q: float, sr: int) -> np.ndarray:
    """Impulse response of a bank of two-pole resonators (decaying sines)."""
    freqs_hz = freqs_hz[freqs_hz < 0.45 * sr]
    if len(freqs_hz) == 0:
        return np.array([1.0])
    taus = q / (np.pi * freqs_hz)
    length = int(min(5 * taus.max(), 2.0) * sr) + 1
    t = np.arange(length) / sr
    kernel = (np.exp(-t[:, None] / taus[None, :]) * np.sin(2 * np.pi * freqs_hz[None, :] * t[:, None])).sum(axis=1)
    return kernel / max(np.abs(kernel).max(), 1e-9)


def _pulses(layer: PulseLayer, ctx: _Context, rng: np.random.Generator) -> np.ndarray:
    sr, n = ctx.sample_rate, ctx.n
    rate = map_value(layer.rate_hz, ctx.control(layer.rate_from)) * 2 ** (ctx.draw.pitch_semitones / 12)
    if layer.jitter > 0:
        rate = rate * np.exp(layer.jitter * smooth_noise(rng, n, 40.0, sr))
    cycles = np.cumsum(rate / sr) + rng.uniform(0, 1)
    positions = np.flatnonzero(np.diff(np.floor(cycles), prepend=np.floor(cycles[0])) > 0)
    impulses = np.zeros(n)
    amps = np.clip(1 + layer.amplitude_jitter * rng.standard_normal(len(positions)), 0.1, None)
    impulses[positions] = amps
    click_len = max(1, int(layer.click_ms * sr / 1000))
    click = rng.standard_normal(click_len) * decay(click_len, sr, layer.click_ms / 3000) if click_len > 1 else np.ones(1)
    excitation = fft_convolve(impulses, click)
    freqs = np.asarray(layer.resonances_hz, dtype=float) * np.asarray(ctx.draw.resonance_scales[: len(layer.resonances_hz)] or [1.0])
    resonated = fft_convolve(excitation, _resonator_kernel(freqs, layer.resonance_q, sr))
    resonated /= max(np.abs(resonated).max(), 1e-9)
    excitation /= max(np.abs(excitation).max(), 1e-9)
    return layer.dry * excitation + (1 - layer.dry) * resonated


def _grains(layer: GrainLayer, ctx: _Context, rng: np.random.Generator) -> np.ndarray:
    sr, n = ctx.sample_rate, ctx.n
    density = map_value(layer.density_hz, ctx.control(layer.density_from)) * ctx.draw.density_scale
    density = density * (ctx.gain > 0.01)
    events = np.flatnonzero(rng.random(n) < density / sr)
    amps = np.exp(layer.amplitude_jitter * rng.standard_normal(len(events)))
    out = np.zeros(n)
    shift = 2 ** (ctx.draw.pitch_semitones / 12)
    if layer.grain == "click":
        impulses = np.zeros(n)
        impulses[events] = amps * rng.choice([-1.0, 1.0], len(events))
        ms = float(layer.grain_ms.low)
        length = max(2, int(ms * 4 * sr / 1000))
        kernel = rng.standard_normal(length) * decay(length, sr, ms / 1000)
        out = fft_convolve(impulses, kernel)
        centre = float(np.mean(map_value(layer.frequency_hz, ctx.frame_controls[layer.frequency_from]))) * shift
        out = spectral_filter(out, sr, lambda f: np.exp(-0.5 * (np.log2(np.maximum(f, 10) / centre) / 1.2) ** 2))
    else:
        freq_control = ctx.control(layer.frequency_from)
        ms_control = ctx.control(layer.density_from)
        for position, amp in zip(events, amps):
            freq = float(map_value(layer.frequency_hz, freq_control[position])) * shift
            freq *= 2 ** (layer.frequency_spread * rng.standard_normal())
            ms = float(map_value(layer.grain_ms, ms_control[position]))
            length = min(n - position, int(ms * 5 * sr / 1000))
            if length < 4 or freq >= 0.45 * sr:
                continue
            t = np.arange(length) / sr
            if layer.grain == "drip":  # a bubble: resonance rising as it closes
                sweep = freq * (1 + 1.5 * (1 - np.exp(-t / (ms / 1000))))  # up to ~1.3 octaves
                phase = 2 * np.pi * np.cumsum(np.minimum(sweep, 0.45 * sr)) / sr
            else:
                phase = 2 * np.pi * freq * t
            out[position : position + length] += amp * np.sin(phase) * np.exp(-t / (ms / 1000))
    if layer.highpass_hz > 0:
        cutoff = layer.highpass_hz
        out = spectral_filter(out, sr, lambda f: 1 / np.sqrt(1 + (cutoff / np.maximum(f, 1.0)) ** 4))
    return out


def _hit_onsets(ctx: _Context) -> list[tuple[float, float]]:
    controls = ctx.controls
    if len(controls.onsets_seconds):
        return list(zip(controls.onsets_seconds.tolist(), np.maximum(controls.onset_strengths, 0.2).tolist()))
    loud = np.flatnonzero(controls.level > 0.3)
    return [(float(loud[0]) / controls.frame_rate if len(loud) else 0.0, 1.0)]


def _hits(layer: HitLayer, ctx: _Context, rng: np.random.Generator) -> np.ndarray:
    sr, n = ctx.sample_rate, ctx.n
    out = np.zeros(n)
    shift = 2 ** (ctx.draw.pitch_semitones / 12)
    for seconds, strength in _hit_onsets(ctx):
        start = int(seconds * sr)
        if start >= n:
            continue
        span = n - start
        hit = np.zeros(span)
        if layer.thump_hz.high > 0:
            f0 = float(map_value(layer.thump_hz, ctx.control_at(layer.thump_from, seconds))) * shift
            length = min(span, int(layer.thump_ms * 4 * sr / 1000))
            t = np.arange(length) / sr
            tau = layer.thump_ms / 1000
            freq = f0 * (layer.thump_drop + (1 - layer.thump_drop) * np.exp(-t / (tau / 2)))
            hit[:length] += np.sin(2 * np.pi * np.cumsum(freq) / sr) * np.exp(-t / tau)
        if layer.noise_gain_db > -60:
            control = ctx.control_at(layer.noise_from, seconds)
            ms = float(map_value(layer.noise_ms, control))
            cutoff = float(map_value(layer.noise_cutoff_hz, control)) * shift
            length = min(span, int(ms * 6 * sr / 1000) + 8)
            burst = rng.standard_normal(length) * decay(length, sr, ms / 1000)
            burst = spectral_filter(burst, sr, lambda f, cutoff=cutoff: 1 / np.sqrt(1 + (f / cutoff) ** 4))
            burst /= max(np.abs(burst).max(), 1e-9)
            hit[:length] += 10 ** (layer.noise_gain_db / 20) * burst
        if layer.modes_hz:
            scale = float(map_value(layer.modes_scale, ctx.control_at(layer.modes_from, seconds))) * shift
            scales = np.asarray(ctx.draw.resonance_scales[: len(layer.modes_hz)])
            freqs = np.asarray(layer.modes_hz) * scale * scales
            length = min(span, int(layer.ring_seconds * 5 * sr))
            t = np.arange(length) / sr
            ring = np.zeros(length)
            for i, freq in enumerate(freqs):
                if freq >= 0.45 * sr:
                    continue
                tau = layer.ring_seconds * (freqs[0] / freq) ** 0.5
                ring += np.sin(2 * np.pi * freq * t + rng.uniform(0, 2 * np.pi)) * np.exp(-t / tau) / np.sqrt(i + 1)
            ring /= max(np.abs(ring).max(), 1e-9)
            hit[:length] += 10 ** (layer.mode_gain_db / 20) * ring
        out[start:] += strength * hit
    return out


_RENDERERS = {ToneLayer: _tone, NoiseLayer: _noise, PulseLayer: _pulses, GrainLayer: _grains, HitLayer: _hits}


def draw_variation(recipe: Recipe, seed: int) -> Draw:
    rng = np.random.default_rng([seed, 0x5F])
    v = recipe.variation
    return Draw(
        pitch_semitones=float(rng.uniform(-v.pitch_semitones, v.pitch_semitones)),
        brightness_offset=float(rng.uniform(-v.brightness, v.brightness)),
        density_scale=float(2 ** rng.uniform(-v.density, v.density)),
        resonance_scales=tuple(float(1 + rng.uniform(-v.resonance, v.resonance)) for _ in range(16)),
    )


def _normalise_layer(audio: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Scale to unit RMS over the part of the timeline where the imitation sounds."""
    active = weight > 0.1
    rms = float(np.sqrt(np.mean(audio[active] ** 2))) if active.any() else float(np.sqrt(np.mean(audio**2)))
    return audio / max(rms, 1e-9)


def _layer_audio(layer: Any, ctx: _Context, rng: np.random.Generator) -> np.ndarray:
    audio = _RENDERERS[type(layer)](layer, ctx, rng)  # type: ignore[operator]
    audio = _normalise_layer(audio, ctx.gain)
    if layer.follow_envelope and layer.dynamics > 0:
        audio = audio * ctx.gain**layer.dynamics
    return audio


class EmbeddedEngine:
    """Numpy synthesis from recipes; no weights, any CPU."""

    name = "embedded"

    def render(self, controls: Controls, recipe: Recipe, seed: int, sample_rate: int,
               duration_seconds: float, channels: int = 1) -> Render:
        """``channels`` 2: a real stereo image: noise and grain layers are drawn again for the right channel
        (decorrelated, so they spread), tones, pulses and hits stay in the centre; one draw of the variation."""
        n = max(1, int(round(duration_seconds * sample_rate)))
        draw = draw_variation(recipe, seed)
        ctx = _Context(controls, draw, sample_rate, n)
        mix = np.zeros(n) if channels == 1 else np.zeros((n, channels))
        for index, layer in enumerate(recipe.layers):
            sides = [_layer_audio(layer, ctx, np.random.default_rng([seed, index]))]
            if channels == 2:
                spread = isinstance(layer, (NoiseLayer, GrainLayer))
                sides.append(_layer_audio(layer, ctx, np.random.default_rng([seed, index, 1])) if spread else sides[0])
            mix += 10 ** (layer.gain_db / 20) * (sides[0] if channels == 1 else np.stack(sides, axis=1))
        peak = float(np.abs(mix).max())
        mix = mix / peak * 0.5 if peak > 0 else mix
        drawn = {k: (round(v, 6) if isinstance(v, float) else [round(x, 6) for x in v]) for k, v in asdict(draw).items()}
        params: dict[str, Any] = {"draw": drawn, "pitch_source": ctx.pitch_source}
        return Render(audio=mix, sample_rate=sample_rate, params=params)

