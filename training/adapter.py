"""`sfx train controls`: teach a Stable Audio Open model to follow loudness, brightness and pitch curves.

Sketch2Sound's recipe on top of a frozen model: the adapter
(``sfxcli.engines.sao.adapter``: one linear projection per control, added to the
DiT's input latents) is the only thing trained. Each example is a crop of a
sound; its own control curves, computed the way an imitation's are, are the
conditioning, so the model learns to put energy, brightness and pitch where
the curves say. During training every control is dropped at random (so any
subset works at generation) and the curves are median-filtered with a random
kernel (so coarse and precise curves both work).

The diffusion loss is the model's own: v-prediction for Stable Audio Open
1.0, the flow target for rectified-flow models (Small), at a random time.
"""

from __future__ import annotations

import csv
import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from sfxcli.errors import DataError, TrainingError
from training.data import Example

Report = Callable[[str, float], None]


@dataclass(frozen=True)
class ControlsConfig:
    steps: int = 2000
    batch_size: int = 8
    learning_rate: float = 1e-3
    seconds: float = 4.0  # crop length
    crops_per_sound: int = 4  # pre-encoded crops per sound (latents computed once)
    control_dropout: float = 0.25  # chance each control is zeroed in an example
    max_median: int = 9  # median kernels drawn from 1, 3, ..., max_median latent frames
    inference_median: int = 3  # the kernel written into the adapter for generation
    cfg_dropout: float = 0.1  # the model's own conditioning dropout, kept as in its training
    seed: int = 0
    checkpoint_every: int = 200
    max_nan_rollbacks: int = 3


@dataclass
class ControlsResult:
    steps: int
    final_loss: float
    adapter_path: Path
    seconds: float


def _crops(examples: list[Example], loaded: Any, config: ControlsConfig, report: Report) -> list[dict[str, Any]]:
    """Crops of every sound at the model's rate, with their latents, control curves and prompt."""
    import torch

    from sfxcli.analysis import analyse, controls_from_curves, resample
    from sfxcli.audio import read_sound
    from sfxcli.errors import AudioInputError

    rng = np.random.default_rng(config.seed)
    length = int(round(config.seconds * loaded.sample_rate / loaded.downsampling)) * loaded.downsampling
    crops: list[dict[str, Any]] = []
    skipped = []
    for n, example in enumerate(examples, start=1):
        try:
            samples, rate = read_sound(example.sound)
        except AudioInputError as error:
            skipped.append(error.message)
            continue
        audio = resample(samples, rate, loaded.sample_rate)
        audio = audio / max(float(np.max(np.abs(audio))), 1e-6) * 0.9
        for _ in range(config.crops_per_sound):
            start = int(rng.integers(0, max(1, len(audio) - length)))
            crop = np.zeros(length)
            piece = audio[start:start + length]
            crop[: len(piece)] = piece
            if np.max(np.abs(crop)) < 1e-3:
                continue
            controls = controls_from_curves(analyse(crop, loaded.sample_rate))
            stereo = torch.from_numpy(np.stack([crop] * loaded.channels).astype(np.float32))[None].to(loaded.device)
            with torch.no_grad():
                latents = loaded.model.pretransform.encode(stereo)[0].float().cpu()
            crops.append({"latents": latents, "controls": controls, "prompt": example.label,
                          "seconds": min(len(piece), length) / loaded.sample_rate})
        report(f"encoded {n}/{len(examples)} sounds", n / len(examples))
    if len(crops) < 2:
        raise DataError(f"only {len(crops)} usable crop(s) from {len(examples)} sound(s)", "; ".join(skipped[:3]) or None)
    return crops


def _batch(crops: list[dict[str, Any]], loaded: Any, config: ControlsConfig, step: int) -> tuple[Any, Any, list[dict[str, Any]]]:
    import torch

    from sfxcli.engines.sao.adapter import control_features

    rng = np.random.default_rng([config.seed, step])
    chosen = rng.choice(len(crops), size=min(config.batch_size, len(crops)), replace=False)
    latents = torch.stack([crops[i]["latents"] for i in chosen])
    frames = latents.shape[-1]
    rate = loaded.sample_rate / loaded.downsampling
    curves = []
    for i in chosen:
        median = int(rng.choice(np.arange(1, config.max_median + 1, 2)))
        features = control_features(crops[i]["controls"], frames, rate, median)
        features[rng.random(len(features)) < config.control_dropout] = 0.0
        curves.append(features)
    metadata = [{"prompt": crops[i]["prompt"], "seconds_start": 0, "seconds_total": crops[i]["seconds"]} for i in chosen]
    return latents, torch.from_numpy(np.stack(curves)), metadata


def train_controls(examples: list[Example], model_spec: str, config: ControlsConfig, run: Path,
                   report: Report | None = None) -> ControlsResult:
    """Train a controls adapter for ``model_spec`` on ``examples``; writes ``run/controls_adapter.safetensors``."""
    import torch

    from sfxcli.engines.sao.adapter import CONTROL_NAMES, AdapterInfo, ControlInjection, new_adapter, save_adapter
    from sfxcli.engines.sao import load_model

    report = report or (lambda message, fraction: None)
    if run.exists() and any(run.iterdir()):
        raise TrainingError(f"{run} is not empty", "choose a new --run folder")
    run.mkdir(parents=True, exist_ok=True)
    (run / "config.json").write_text(json.dumps({"version": 1, "model": model_spec, **asdict(config)}, indent=2) + "\n")
    loaded = load_model(model_spec)
    if loaded.model.pretransform is None:
        raise TrainingError(f"{model_spec} has no autoencoder: controls adapters need a latent diffusion model")
    crops = _crops(examples, loaded, config, report)
    torch.manual_seed(config.seed)
    adapter = new_adapter(loaded.latent_dim).to(loaded.device).train()
    injection = ControlInjection(adapter)
    injection.attach(loaded.model.model)
    optimizer = torch.optim.AdamW(adapter.parameters(), lr=config.learning_rate, weight_decay=0.0)
    model = loaded.model.float().eval()
    log_path = run / "log.csv"
    with open(log_path, "w", newline="") as handle:
        csv.writer(handle).writerow(["step", "loss", "lr", "event"])
    losses: list[float] = []
    started = time.perf_counter()
    good = ({k: v.clone() for k, v in adapter.state_dict().items()}, 0)
    scale, in_a_row, step, last_failure = 1.0, 0, 0, 0
    info = AdapterInfo(loaded.latent_dim, CONTROL_NAMES, config.inference_median, str(loaded.source))
    try:
        while step < config.steps:
            torch.manual_seed(config.seed * 1_000_003 + step)
            lr = config.learning_rate * scale * 0.5 * (1 + math.cos(math.pi * step / config.steps))
            for group in optimizer.param_groups:
                group["lr"] = lr
            latents, curves, metadata = _batch(crops, loaded, config, step)
            latents, curves = latents.to(loaded.device), curves.to(loaded.device)
            t = torch.rand(len(latents), device=loaded.device)
            noise = torch.randn_like(latents)
            if loaded.objective == "v":
                alphas, sigmas = torch.cos(t * math.pi / 2)[:, None, None], torch.sin(t * math.pi / 2)[:, None, None]
                target = noise * alphas - latents * sigmas
            else:
                alphas, sigmas = (1 - t)[:, None, None], t[:, None, None]
                target = noise - latents
            noised = latents * alphas + noise * sigmas
            with torch.no_grad():
                conditioning = model.conditioner(metadata, loaded.device)
            injection.set(curves, grad=True)
            output = model(noised, t, cond=conditioning, cfg_dropout_prob=config.cfg_dropout)
            loss = torch.nn.functional.mse_loss(output.float(), target)
            optimizer.zero_grad()
            if not torch.isfinite(loss):
                in_a_row += 1
                last_failure = max(last_failure, step + 1)
                scale *= 0.5
                adapter.load_state_dict(good[0])
                step = good[1]
                with open(log_path, "a", newline="") as handle:
                    csv.writer(handle).writerow([step + 1, "", lr, f"non-finite loss: back to step {step}, lr x{scale:g}"])
                report(f"non-finite loss: rolled back to step {step} and halved the learning rate", step / config.steps)
                if in_a_row >= config.max_nan_rollbacks:
                    raise TrainingError(f"the loss stayed NaN or infinite after {in_a_row} rollbacks; stopped",
                                        "lower learning_rate; check the sounds for broken files")
                continue
            loss.backward()
            optimizer.step()
            step += 1
            if step > last_failure:  # got past the step that failed: the next failure starts a new count
                in_a_row = 0
            losses.append(loss.item())
            with open(log_path, "a", newline="") as handle:
                csv.writer(handle).writerow([step, round(losses[-1], 6), lr, ""])
            if step % 10 == 0:
                good = ({k: v.clone() for k, v in adapter.state_dict().items()}, step)
            if step % config.checkpoint_every == 0:
                save_adapter(adapter, info, run / "controls_adapter.safetensors")
            report(f"step {step}/{config.steps} loss {losses[-1]:.4f}", step / config.steps)
    finally:
        injection.clear()
        injection.detach()
    path = run / "controls_adapter.safetensors"
    save_adapter(adapter, info, path)
    plot_losses(losses, run / "loss.png")
    return ControlsResult(step, losses[-1] if losses else float("nan"), path, time.perf_counter() - started)


def plot_losses(losses: list[float], path: Path) -> None:
    """The loss curve (and a 20-step running mean) as a PNG in the run folder."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 3.5))
    axis.plot(np.arange(1, len(losses) + 1), losses, lw=0.6, alpha=0.5, label="loss")
    if len(losses) >= 20:
        running = np.convolve(losses, np.ones(20) / 20, mode="valid")
        axis.plot(np.arange(20, len(losses) + 1), running, lw=1.5, label="20-step mean")
    axis.set_xlabel("step")
    axis.set_ylabel("diffusion loss")
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
