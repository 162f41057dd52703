"""Sampling from a loaded Stable Audio Open model, steered by the imitation.

How the imitation steers generation (per recipe, ``[generative]`` in presets):
the label plus the recipe's style words is the text prompt; ``seconds_total``
is the result's length; audio-to-audio starts from a *sketch* that already
follows the imitation (the library or synthesis engine's render, or the take
itself) under a chosen amount of noise; a controls adapter, when loaded, adds
the take's loudness/brightness/pitch curves to the model's input latents; and
the finished sound goes through the same envelope follow as every engine.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any, Callable

import numpy as np

from sfxcli.analysis import Controls, resample
from sfxcli.engines.base import Engine, Render
from sfxcli.engines.sao.model import LoadedModel, quiet_stable_audio
from sfxcli.errors import EngineUnavailableError
from sfxcli.presets import Generative, Recipe

MAX_BATCH = 8


def sampler_settings(loaded: LoadedModel, generative: Generative) -> dict[str, Any]:
    """Steps, guidance and sampler for the model's objective, with the recipe's overrides."""
    if loaded.objective == "v":
        settings: dict[str, Any] = {"steps": 100, "cfg_scale": 7.0, "sampler_type": "dpmpp-3m-sde",
                                    "sigma_min": 0.3, "sigma_max": 500.0}
    else:  # rectified flow (Stable Audio Open Small)
        settings = {"steps": 8, "cfg_scale": 1.0, "sampler_type": "pingpong"}
    settings.update({k: v for k, v in loaded.config.get("sfx", {}).items() if k in ("steps", "cfg_scale")})
    if generative.steps:
        settings["steps"] = generative.steps
    if generative.cfg_scale:
        settings["cfg_scale"] = generative.cfg_scale
    return settings


def init_noise_level(loaded: LoadedModel, sigma: float) -> float:
    """The sketch's noise as the sampler wants it: a sigma for v models, the matching time for flows.

    Both keep the same signal-to-noise ratio: x = a + sigma n (v) against
    x = (1 - t) a + t n (flow) meet at t = sigma / (1 + sigma).
    """
    return sigma if loaded.objective == "v" else sigma / (1.0 + sigma)


def window_samples(loaded: LoadedModel, seconds: float) -> int:
    """The generation window: the result's length rounded up to whole latent frames."""
    needed = int(math.ceil(seconds * loaded.sample_rate / loaded.downsampling)) * loaded.downsampling
    return max(needed, loaded.downsampling)


def generate(loaded: LoadedModel, prompt: str, negative_prompt: str, seconds: float, batch: int, seed: int,
             settings: dict[str, Any], sketch: np.ndarray | None = None, sketch_noise: float = 2.0,
             curves: np.ndarray | None = None, control_strength: float = 1.0,
             on_step: Callable[[int, int], None] | None = None, channels: int = 1) -> np.ndarray:
    """A batch of generations at the model's rate, float64: (batch, samples) mono (the model's channels
    averaged) with ``channels`` 1, else (batch, samples, channels) as the model made them.

    ``sketch``: mono audio at the model's rate to start from (audio-to-audio);
    ``curves``: (controls, latent frames) for a loaded controls adapter;
    ``on_step(step, steps)`` after every sampling step (it may raise to stop).
    """
    import torch
    from stable_audio_tools.inference.generation import generate_diffusion_cond

    if seconds > loaded.max_seconds:
        raise EngineUnavailableError(f"{loaded.source} generates at most {loaded.max_seconds:.1f} s; "
                                     f"this request needs {seconds:.1f} s", "use a shorter imitation or --seconds")
    samples = window_samples(loaded, seconds)
    item = {"prompt": prompt, "seconds_start": 0, "seconds_total": float(seconds)}
    conditioning = [dict(item) for _ in range(batch)]
    negative = ([{**item, "prompt": negative_prompt} for _ in range(batch)]
                if negative_prompt and "prompt" in loaded.conditioner_ids else None)
    dtype = torch.float16 if loaded.dtype == "float16" else torch.float32
    kwargs: dict[str, Any] = dict(settings)
    if sketch is not None:
        audio = np.zeros(samples, dtype=np.float32)
        audio[: min(samples, len(sketch))] = sketch[:samples]
        kwargs["init_audio"] = (loaded.sample_rate, torch.from_numpy(audio).to(dtype)[None])
        kwargs["init_noise_level"] = init_noise_level(loaded, sketch_noise)
        if "sigma_min" in kwargs:  # the schedule must run downwards from the sketch's noise
            kwargs["sigma_min"] = min(kwargs["sigma_min"], 0.5 * kwargs["init_noise_level"])
    if on_step is not None:
        steps = int(settings["steps"])
        kwargs["callback"] = lambda info: on_step(min(int(info.get("i", 0)) + 1, steps), steps)
    injection = loaded.injection
    if injection is not None and curves is not None:
        injection.strength = control_strength
        injection.set(torch.from_numpy(curves)[None].to(loaded.device))
    try:
        with quiet_stable_audio(), torch.inference_mode():
            output = generate_diffusion_cond(
                loaded.model, conditioning=conditioning, negative_conditioning=negative, batch_size=batch,
                sample_size=samples, seed=int(seed) % (2**32 - 1), device=loaded.device, **kwargs)
    except torch.cuda.OutOfMemoryError:
        raise EngineUnavailableError(f"out of GPU memory generating {batch} x {seconds:.1f} s",
                                     "ask for fewer variations at a time, or shorter sounds") from None
    finally:
        if injection is not None:
            injection.clear()
    made = output.float().cpu().numpy().astype(np.float64)  # (batch, model channels, samples)
    if channels == 1:
        audio_out = made.mean(axis=1)
    else:
        audio_out = np.repeat(made, channels, axis=1)[:, :channels] if made.shape[1] < channels else made[:, :channels]
        audio_out = audio_out.transpose(0, 2, 1)
    if not np.all(np.isfinite(audio_out)):
        raise EngineUnavailableError(f"{loaded.source} produced NaN or infinite samples",
                                     "on CUDA try SFX_DEVICE=cpu to rule out half precision, or re-download the weights")
    return audio_out


class SaoEngine:
    """One request's use of a loaded model: prompt, sketch and controls from the request."""

    name = "sao"

    def __init__(self, loaded: LoadedModel, label: str, sketch_engine: Engine | None,
                 imitation: tuple[np.ndarray, int] | None = None, overrides: dict[str, Any] | None = None) -> None:
        self.loaded = loaded
        self.label = label
        self.sketch_engine = sketch_engine
        self.imitation = imitation  # (mono samples, rate) for the "imitation" sketch
        self.overrides = dict(overrides or {})  # the request's changes to the recipe's [generative] table
        self.max_batch = MAX_BATCH

    def render(self, controls: Controls, recipe: Recipe, seed: int, sample_rate: int,
               duration_seconds: float, channels: int = 1) -> Render:
        return self.render_batch(controls, recipe, [seed], sample_rate, duration_seconds, channels=channels)[0]

    def _sketch(self, mode: str, controls: Controls, recipe: Recipe, seed: int,
                duration: float) -> tuple[np.ndarray | None, str]:
        rate = self.loaded.sample_rate
        if mode == "none":
            return None, "none"
        if mode == "imitation" and self.imitation is not None:
            samples, source_rate = self.imitation
            audio = resample(samples, source_rate, rate) if source_rate != rate else samples
            description = "the imitation"
        elif self.sketch_engine is not None:
            audio = self.sketch_engine.render(controls, recipe, seed, rate, duration).audio
            description = f"the {self.sketch_engine.name} engine's render"
        else:
            return None, "none"
        peak = float(np.max(np.abs(audio))) if len(audio) else 0.0
        return (audio / peak * 0.5 if peak > 0 else audio), description

    def render_batch(self, controls: Controls, recipe: Recipe, seeds: list[int], sample_rate: int,
                     duration_seconds: float, on_step: Callable[[int, int], None] | None = None,
                     channels: int = 1) -> list[Render]:
        from sfxcli.engines.sao.adapter import control_features

        generative = replace(recipe.generative, **self.overrides)
        loaded = self.loaded
        prompt = ", ".join(part for part in (self.label.strip(), generative.prompt.strip()) if part)
        settings = sampler_settings(loaded, generative)
        sketch, sketch_description = self._sketch(generative.sketch, controls, recipe, seeds[0], duration_seconds)
        curves = None
        if loaded.injection is not None:
            samples = window_samples(loaded, duration_seconds)
            curves = control_features(controls, samples // loaded.downsampling,
                                      loaded.sample_rate / loaded.downsampling, loaded.adapter_median)
        audio = generate(loaded, prompt, generative.negative_prompt, duration_seconds, len(seeds), seeds[0], settings,
                         sketch, generative.sketch_noise, curves, generative.control_strength, on_step, channels)
        params = {
            "model": loaded.source.location, "device": loaded.device, "dtype": loaded.dtype,
            "prompt": prompt, "negative_prompt": generative.negative_prompt,
            "sampler": {k: v for k, v in settings.items()},
            "sketch": sketch_description, "sketch_noise": generative.sketch_noise if sketch is not None else None,
            "controls_adapter": loaded.adapter_path,
            "control_strength": generative.control_strength if loaded.adapter_path else None,
            "batch_seed": seeds[0], "batch_size": len(seeds),
        }
        renders = []
        for index, row in enumerate(audio):
            out = resample(row, loaded.sample_rate, sample_rate) if sample_rate != loaded.sample_rate else row
            renders.append(Render(out[: int(round(duration_seconds * sample_rate))], sample_rate,
                                  {**params, "batch_index": index}))
        return renders
