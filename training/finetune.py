"""`sfx train finetune`: fine-tune a Stable Audio Open model on your own labelled sounds.

The training itself is stable-audio-tools' own: its ``diffusion_cond``
training wrapper (built by ``create_training_wrapper_from_config`` from a
``training`` section generated from the preset) driven by a PyTorch Lightning
``Trainer``. sfx adds what a user needs around it:

- data from the same manifest as ``sfx train contrastive``, read with
  soundfile (torchaudio 2.9 cannot decode without torchcodec): every file is
  converted to the model's rate and channel count, and files that cannot be
  used are named; optional pre-encoding to latents (``--pre-encode``);
- demo generations from fixed prompts every N steps in ``demos/``;
- checkpoints in ``checkpoints/`` and ``--resume`` from the last one;
- a guard on the loss: a NaN or infinite loss stops the step before any
  weight changes, the run restarts from its last checkpoint at half the
  learning rate, and after three such restarts stops with a message;
- out-of-memory turned into advice (batch size, precision, pre-encoding);
- multi-GPU and multi-node through Lightning (``--devices``, ``--num-nodes``,
  ``--strategy``);
- an export the engine loads directly: ``model_config.json`` +
  ``model.safetensors`` in the run folder (EMA weights when EMA is on), so
  ``sfx gen --engine sao --model RUN`` uses it;
- ``log.csv`` (Lightning's metrics) and ``loss.png``.
"""

from __future__ import annotations

import copy
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from sfxcli.errors import DataError, TrainingError
from training.data import Example
from training.lightning import NonFiniteLoss, RunSettings, check_run, fit_guarded

Report = Callable[[str, float], None]
OOM_ADVICE = ("lower --batch-size, use --precision 16-mixed (or bf16-mixed), --pre-encode to train on latents, "
              "or shorter --seconds")


@dataclass(frozen=True)
class FinetuneConfig:
    steps: int = 2000
    batch_size: int = 4
    learning_rate: float = 5e-5
    seconds: float = 10.0  # training crop length
    use_ema: bool = True
    pre_encode: bool = False  # encode crops to latents once, train on those
    crops_per_sound: int = 4  # with pre_encode: fixed crops per sound
    cfg_dropout: float = 0.1
    demo_every: int = 500
    demo_steps: int = 50
    demo_prompts: tuple[str, ...] = ()  # empty: the first three labels of the data
    checkpoint_every: int = 500
    precision: str = "32-true"
    devices: str = "auto"
    num_nodes: int = 1
    strategy: str = "auto"
    seed: int = 0
    max_nan_restarts: int = 3


@dataclass
class FinetuneResult:
    steps: int
    model_folder: Path
    restarts: int
    notes: list[str]


# -- data -------------------------------------------------------------------------------------------

def prepare_sounds(examples: list[Example], sample_rate: int, channels: int) -> tuple[list[tuple[np.ndarray, str]], list[str]]:
    """Every sound at the model's rate and channel count, with notes on what was converted or refused."""
    import soundfile as sf

    from sfxcli.analysis import resample

    sounds: list[tuple[np.ndarray, str]] = []
    notes: list[str] = []
    refused: list[str] = []
    for example in examples:
        try:
            data, rate = sf.read(str(example.sound), dtype="float64", always_2d=True)
        except (sf.LibsndfileError, RuntimeError) as error:
            refused.append(f"{example.sound}: cannot decode ({str(error).strip().splitlines()[0]})")
            continue
        if data.size == 0 or not np.all(np.isfinite(data)) or np.max(np.abs(data)) < 1e-3:
            refused.append(f"{example.sound}: empty, silent or non-finite")
            continue
        changed = []
        if data.shape[1] != channels:
            changed.append(f"{data.shape[1]} -> {channels} channels")
            data = np.repeat(data.mean(axis=1, keepdims=True), channels, axis=1)
        if rate != sample_rate:
            changed.append(f"{rate} -> {sample_rate} Hz")
            data = resample(data, rate, sample_rate)
        if changed:
            notes.append(f"converted {example.sound.name}: {', '.join(changed)}")
        sounds.append((data.T.astype(np.float32), example.label))
    if refused and not sounds:
        raise DataError(f"no usable sound: {'; '.join(refused[:3])}")
    notes += [f"refused {line}" for line in refused]
    if len(sounds) < 1:
        raise DataError("the manifest has no usable sounds")
    return sounds, notes


class CropDataset:
    """Random crops with stable-audio-tools' metadata: prompt, seconds, padding mask."""

    def __init__(self, sounds: list[tuple[np.ndarray, str]], length: int, sample_rate: int, seed: int,
                 steps_per_epoch: int) -> None:
        self.sounds, self.length, self.rate, self.seed = sounds, length, sample_rate, seed
        self.size = max(steps_per_epoch, len(sounds))

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: int) -> tuple[Any, dict[str, Any]]:
        import torch

        rng = np.random.default_rng([self.seed, index])
        audio, label = self.sounds[int(rng.integers(len(self.sounds)))]
        start = int(rng.integers(0, max(1, audio.shape[1] - self.length)))
        piece = audio[:, start:start + self.length]
        crop = np.zeros((audio.shape[0], self.length), dtype=np.float32)
        crop[:, : piece.shape[1]] = piece
        mask = torch.zeros(self.length, dtype=torch.bool)
        mask[: piece.shape[1]] = True
        info = {"prompt": label, "seconds_start": start / self.rate, "seconds_total": audio.shape[1] / self.rate,
                "padding_mask": [mask]}
        return torch.from_numpy(crop), info


class LatentDataset:
    """Crops encoded once by the model's autoencoder (``--pre-encode``)."""

    def __init__(self, crops: list[tuple[Any, dict[str, Any]]], steps_per_epoch: int, seed: int) -> None:
        self.crops, self.seed = crops, seed
        self.size = max(steps_per_epoch, len(crops))

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: int) -> tuple[Any, dict[str, Any]]:
        rng = np.random.default_rng([self.seed, index])
        return self.crops[int(rng.integers(len(self.crops)))]


def collate(samples: list[tuple[Any, dict[str, Any]]]) -> tuple[Any, list[dict[str, Any]]]:
    import torch

    return torch.stack([s[0] for s in samples]), [s[1] for s in samples]


def _pre_encode(dataset: CropDataset, model: Any, count: int) -> list[tuple[Any, dict[str, Any]]]:
    import torch

    out = []
    with torch.no_grad():
        for i in range(count):
            audio, info = dataset[i]
            latents = model.pretransform.encode(audio[None])[0]
            frames = latents.shape[-1]
            mask = torch.nn.functional.interpolate(info["padding_mask"][0][None, None].float(), size=frames,
                                                   mode="nearest")[0, 0].bool()
            out.append((latents, {**info, "padding_mask": [mask]}))
    return out


# -- the run ----------------------------------------------------------------------------------------

def training_section(config: FinetuneConfig, prompts: list[str], seconds: float) -> dict[str, Any]:
    """The ``training`` part of a stable-audio-tools model config, from the preset."""
    return {
        "learning_rate": config.learning_rate,
        "use_ema": config.use_ema,
        "pre_encoded": config.pre_encode,
        "cfg_dropout_prob": config.cfg_dropout,
        "demo": {"demo_every": config.demo_every, "demo_steps": config.demo_steps,
                 "demo_cond": [{"prompt": p, "seconds_start": 0, "seconds_total": seconds} for p in prompts],
                 "demo_cfg_scales": [3, 6]},
    }


def finetune(examples: list[Example], model_spec: str, config: FinetuneConfig, run: Path, resume: bool = False,
             report: Report | None = None) -> FinetuneResult:
    """Fine-tune ``model_spec`` on ``examples`` into ``run``; the run folder then loads with ``--model RUN``."""
    import torch
    from pytorch_lightning.callbacks import Callback

    from sfxcli.engines.sao import load_model

    report = report or (lambda message, fraction: None)
    check_run(run, resume)
    run.mkdir(parents=True, exist_ok=True)
    loaded = load_model(model_spec)
    model_config = copy.deepcopy(loaded.config)
    length = int(round(config.seconds * loaded.sample_rate / loaded.downsampling)) * loaded.downsampling
    if length > loaded.max_samples:
        raise TrainingError(f"--seconds {config.seconds} is longer than the model's window ({loaded.max_seconds:.1f} s)")
    sounds, notes = prepare_sounds(examples, loaded.sample_rate, loaded.channels)
    prompts = list(config.demo_prompts) or list(dict.fromkeys(label for _, label in sounds))[:3]
    model_config["training"] = training_section(config, prompts, config.seconds)
    (run / "model_config.training.json").write_text(json.dumps(model_config, indent=2) + "\n")
    (run / "dataset_config.json").write_text(json.dumps({
        "dataset_type": "sfx-manifest", "sounds": [str(e.sound) for e in examples], "sample_rate": loaded.sample_rate,
        "channels": loaded.channels, "crop_samples": length, "pre_encoded": config.pre_encode}, indent=2) + "\n")
    (run / "finetune.json").write_text(json.dumps({"version": 1, "model": model_spec, **asdict(config)}, indent=2) + "\n")

    model = loaded.model.to("cpu").float().train().requires_grad_(True)
    initial = {k: v.detach().clone() for k, v in model.state_dict().items()}  # a restart before any checkpoint
    if model.pretransform is not None:
        model.pretransform.requires_grad_(False)
    dataset: Any = CropDataset(sounds, length, loaded.sample_rate, config.seed, config.steps * config.batch_size)
    if config.pre_encode:
        report("encoding crops to latents", 0.0)
        dataset = LatentDataset(_pre_encode(dataset, model, config.crops_per_sound * len(sounds)),
                                config.steps * config.batch_size, config.seed)

    from stable_audio_tools.training.factory import create_training_wrapper_from_config

    class Progress(Callback):
        def on_train_batch_end(self, trainer: Any, module: Any, outputs: Any, batch: Any, batch_idx: int) -> None:
            loss = outputs["loss"] if isinstance(outputs, dict) else outputs
            report(f"step {trainer.global_step}/{config.steps} loss {float(loss):.4f}", trainer.global_step / config.steps)

    class Demos(Callback):
        """Fixed-prompt generations every demo_every steps, written to demos/step_N/."""

        def on_train_batch_end(self, trainer: Any, module: Any, outputs: Any, batch: Any, batch_idx: int) -> None:
            step = trainer.global_step
            if config.demo_every and step % config.demo_every == 0 and trainer.is_global_zero:
                write_demos(module, prompts, config, run / "demos" / f"step_{step:06d}", loaded)

    def build() -> tuple[Any, list[Any]]:
        wrapper = create_training_wrapper_from_config(model_config, model)
        original = wrapper.training_step

        def guarded(batch: Any, batch_idx: int) -> Any:
            loss = original(batch, batch_idx)
            step = wrapper.trainer.global_step + 1
            if not torch.isfinite(loss):
                raise NonFiniteLoss(step)  # before backward: no weight has changed
            return loss

        wrapper.training_step = guarded
        return wrapper, [Progress(), Demos()]

    settings = RunSettings(config.steps, config.batch_size, config.learning_rate, config.checkpoint_every,
                           config.precision, config.devices, config.num_nodes, config.strategy, config.seed,
                           config.max_nan_restarts, OOM_ADVICE,
                           "lower --learning-rate, try --precision 32-true, check the sounds")
    fitted = fit_guarded(build, lambda: torch.utils.data.DataLoader(
        dataset, batch_size=config.batch_size, shuffle=False, num_workers=0, collate_fn=collate, drop_last=False),
        run, settings, lambda: model.load_state_dict(initial), notes, report)
    trainer, wrapper = fitted.trainer, fitted.wrapper
    steps = int(trainer.global_step)
    export(wrapper, loaded.config, run, config.use_ema)
    plot_metrics(run)
    return FinetuneResult(steps, run, fitted.restarts, notes)


def write_demos(module: Any, prompts: list[str], config: FinetuneConfig, folder: Path, loaded: Any) -> None:
    import soundfile as sf
    import torch
    from stable_audio_tools.inference.generation import generate_diffusion_cond

    from sfxcli.engines.sao.model import quiet_stable_audio
    from sfxcli.engines.sao.sampling import window_samples

    model = module.diffusion
    was_training = model.training
    model.eval()
    folder.mkdir(parents=True, exist_ok=True)
    samples = window_samples(loaded, min(config.seconds, loaded.max_seconds))
    with quiet_stable_audio(), torch.no_grad():
        audio = generate_diffusion_cond(model, steps=config.demo_steps, cfg_scale=3.0, batch_size=len(prompts),
                                        conditioning=[{"prompt": p, "seconds_start": 0, "seconds_total": config.seconds}
                                                      for p in prompts],
                                        sample_size=samples, seed=config.seed, device=str(module.device))
    for i, (prompt, clip) in enumerate(zip(prompts, audio.float().cpu().numpy(), strict=True)):
        safe = "".join(c if c.isalnum() else "_" for c in prompt)[:40]
        peak = max(float(np.max(np.abs(clip))), 1e-9)
        sf.write(folder / f"{i:02d}_{safe}.wav", (clip / peak * 0.9).T, loaded.sample_rate, subtype="PCM_24")
    model.train(was_training)


def export(wrapper: Any, base_config: dict[str, Any], run: Path, use_ema: bool) -> None:
    """The trained model, unwrapped, as ``model_config.json`` + ``model.safetensors`` in ``run``."""
    from sfxcli.engines.sao.model import save_model

    model = wrapper.diffusion
    if use_ema and getattr(wrapper, "diffusion_ema", None) is not None:
        model.model.load_state_dict(wrapper.diffusion_ema.ema_model.state_dict())
    save_model(model, base_config, run)


def plot_metrics(run: Path) -> None:
    """Lightning's metrics as ``log.csv`` (step, loss, lr) and the loss curve as ``loss.png``."""
    import csv

    from training.adapter import plot_losses

    metrics = run / "logs" / "version_0" / "metrics.csv"
    if not metrics.is_file():
        return
    new = [(int(r["step"]), r["train/loss"], r.get("train/lr", "")) for r in csv.DictReader(open(metrics))
           if r.get("train/loss")]
    first = min((s for s, _, _ in new), default=0)
    log = run / "log.csv"
    # a resumed run's logger starts a fresh metrics file: keep the earlier steps from log.csv
    old = [(int(r["step"]), r["loss"], r["lr"]) for r in csv.DictReader(open(log)) if int(r["step"]) < first] \
        if log.is_file() else []
    rows = old + new
    with open(log, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["step", "loss", "lr"])
        writer.writerows(rows)
    losses = [float(loss) for _, loss, _ in rows if math.isfinite(float(loss))]
    if losses:
        plot_losses(losses, run / "loss.png")
