"""`sfx train autoencoder`: audio codecs and autoencoders on your own sounds, and Stable Audio Open decoder fine-tuning.

The training is stable-audio-tools' own ``AutoencoderTrainingWrapper`` (built
by ``create_training_wrapper_from_config`` from a model and ``training``
config that the preset generates) driven by a PyTorch Lightning ``Trainer``:
its residual vector quantisers (``rvq``: EMA k-means codebooks with dead-code
replacement, as in SoundStream; ``dac_rvq``: factorised, L2-normalised
codebooks with quantiser dropout, as in DAC), its VAE bottleneck, its
multi-resolution STFT and adversarial losses. sfx adds:

- two optional losses the research behind sfx suggests:
  - a *curriculum* (``curriculum_steps``): an L1 loss on the waveform
    downsampled by each of ``curriculum_factors`` is weighted fully at the
    start and fades to nothing, while the STFT losses (fine detail) grow from
    ``curriculum_fine_start`` of their weight to all of it;
  - an *auxiliary stage loss* (``stage_loss_weight``): the channel average of
    every decoder stage's output is pulled towards the input signal
    band-limited and downsampled to that stage's rate, so each stage carries
    a coarse version of the sound;
- data from the same manifest as the other ``sfx train`` commands, random
  crops at the model's rate and channel count, a held-out share of the sounds
  for reconstruction demos and held-out figures;
- reconstruction demos every N steps (``demos/step_N/``: real and decoded);
- checkpoints, ``--resume``, a NaN/inf guard (the non-finite loss is caught
  before any backward pass; the run restarts from its last checkpoint at
  half the learning rate, three times at most), out-of-memory advice,
  multi-GPU and multi-node through Lightning;
- ``log.csv`` and ``loss.png``;
- an export the rest of sfx loads: ``model_config.json`` +
  ``model.safetensors`` + ``codec.json`` for ``sfx codec``; or, for a decoder
  fine-tune of a Stable Audio Open model (encoder and bottleneck frozen so
  the generator's latent space holds), the whole model folder with the new
  decoder, for ``sfx gen --engine sao --model RUN``.
"""

from __future__ import annotations

import copy
import csv
import json
import math
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from sfxcli.errors import TrainingError
from training.data import Example
from training.finetune import collate, prepare_sounds
from training.lightning import NonFiniteLoss, RunSettings, check_run, checkpoint_step, fit_guarded

Report = Callable[[str, float], None]
OOM_ADVICE = "lower --batch-size or --seconds, use --precision 16-mixed (or bf16-mixed), or a smaller preset"
BOTTLENECKS = ("rvq", "dac_rvq", "vae")
DISCRIMINATORS = ("encodec", "dac", "oobleck", "none")
HIGH_LEARNING_RATE = 1e-3


@dataclass(frozen=True)
class CodecModelConfig:
    """The architecture: an Oobleck (SEANet/DAC-style) convolutional encoder, a bottleneck, a transposed-conv decoder."""

    sample_rate: int = 44100
    audio_channels: int = 1
    channels: int = 64  # first stage's width; stage i has channels * c_mults[i]
    c_mults: tuple[int, ...] = (1, 2, 4, 8)
    strides: tuple[int, ...] = (2, 4, 8, 8)  # product = samples per latent frame
    latent_dim: int = 64
    use_snake: bool = True
    bottleneck: str = "rvq"  # rvq | dac_rvq | vae
    num_quantizers: int = 8
    codebook_size: int = 1024
    codebook_dim: int = 8  # dac_rvq: the factorised lookup dimension
    quantizer_dropout: float = 0.0  # dac_rvq: share of steps that train with fewer codebooks

    @property
    def downsampling(self) -> int:
        return int(np.prod(self.strides))

    @property
    def frame_rate_hz(self) -> float:
        return self.sample_rate / self.downsampling

    @property
    def bitrate_bps(self) -> float:
        """What ``sfx codec`` stores per second: code bits for a quantiser, float16 latents for a VAE."""
        if self.bottleneck == "vae":
            return self.frame_rate_hz * self.latent_dim * 16
        return self.frame_rate_hz * self.num_quantizers * math.ceil(math.log2(self.codebook_size))


@dataclass(frozen=True)
class AutoencoderTrainConfig:
    steps: int = 20000
    batch_size: int = 8
    learning_rate: float = 1e-4  # low by default: high ones collapse autoencoders to noise
    seconds: float = 1.0  # crop length
    use_ema: bool = True
    discriminator: str = "encodec"  # encodec | dac | oobleck | none
    discriminator_filters: int = 32
    adversarial_weight: float = 0.1
    feature_matching_weight: float = 5.0
    warmup_steps: int = 0  # steps before the adversarial losses reach the autoencoder
    stft_sizes: tuple[int, ...] = (2048, 1024, 512, 256, 128, 64, 32)
    stft_weight: float = 1.0
    l1_weight: float = 0.0
    kl_weight: float = 1e-4  # vae
    curriculum_steps: int = 0  # 0: off
    curriculum_factors: tuple[int, ...] = (16, 4)
    curriculum_coarse_weight: float = 1.0
    curriculum_fine_start: float = 0.25
    stage_loss_weight: float = 0.0  # 0: off
    clip_grad_norm: float = 0.0
    holdout: float = 0.1  # share of sounds kept out for demos and held-out figures
    demo_every: int = 1000
    demo_count: int = 4
    checkpoint_every: int = 1000
    precision: str = "32-true"
    devices: str = "auto"
    num_nodes: int = 1
    strategy: str = "auto"
    seed: int = 0
    max_nan_restarts: int = 3


@dataclass
class AutoencoderResult:
    steps: int
    model_folder: Path
    restarts: int
    notes: list[str]
    seconds: float
    evaluation: dict[str, float]


# -- presets -----------------------------------------------------------------------------------------

def load_preset(name: str, overrides: dict[str, Any] | None = None,
                root: Path | None = None) -> tuple[CodecModelConfig, AutoencoderTrainConfig]:
    """``presets/training/autoencoder-NAME.toml``: a [model] and a [train] table; ``extends`` names a base preset."""
    from sfxcli.errors import PresetError
    from sfxcli.presets import from_table, training_preset

    tables: dict[str, dict[str, Any]] = {"model": {}, "train": {}}
    chain: list[str] = []
    while True:
        data, path = training_preset("autoencoder", name, root)
        unknown = set(data) - {"model", "train", "extends", "description"}
        if unknown:
            raise PresetError(f"{path}: unknown table or key {sorted(unknown)[0]!r}", "use [model], [train], extends")
        for key in ("model", "train"):
            tables[key] = {**data.get(key, {}), **tables[key]}
        chain.append(name)
        base = data.get("extends")
        if base is None:
            break
        if base in chain:
            raise PresetError(f"{path}: extends {base!r} goes round in a circle")
        name = str(base)
    train = {**tables["train"], **{k: v for k, v in (overrides or {}).items() if v is not None}}
    model = from_table(CodecModelConfig, tables["model"], f"{path}: [model]")
    config = from_table(AutoencoderTrainConfig, train, f"{path}: [train]")
    return model, config


def check_configs(model: CodecModelConfig | None, config: AutoencoderTrainConfig) -> list[str]:
    """Refuse what cannot train; return warnings for what trains badly."""
    problems = []
    if config.steps < 1 or config.batch_size < 1 or config.checkpoint_every < 1 or config.demo_every < 0:
        problems.append("steps, batch size and checkpoint interval must be at least 1, the demo interval at least 0")
    if not config.learning_rate > 0:
        problems.append(f"the learning rate must be positive (got {config.learning_rate})")
    if not 0.05 <= config.seconds <= 30:
        problems.append(f"seconds must be 0.05..30 (got {config.seconds})")
    if config.discriminator not in DISCRIMINATORS:
        problems.append(f"discriminator must be one of {', '.join(DISCRIMINATORS)} (got {config.discriminator!r})")
    if not 0 <= config.holdout < 0.5:
        problems.append(f"holdout must be 0..0.5 (got {config.holdout})")
    if config.curriculum_steps < 0 or config.stage_loss_weight < 0 or any(f < 2 for f in config.curriculum_factors):
        problems.append("curriculum steps and the stage loss weight must be at least 0, curriculum factors at least 2")
    if model is not None:
        if model.bottleneck not in BOTTLENECKS:
            problems.append(f"bottleneck must be one of {', '.join(BOTTLENECKS)} (got {model.bottleneck!r})")
        if len(model.c_mults) != len(model.strides) or not model.strides or min(model.strides) < 1:
            problems.append("c_mults and strides need one entry per stage")
        if model.codebook_size < 2 or model.num_quantizers < 1 or model.audio_channels not in (1, 2):
            problems.append("a codebook needs at least 2 entries, at least 1 quantiser, 1 or 2 audio channels")
    if problems:
        raise TrainingError(problems[0])
    warnings = []
    if config.learning_rate > HIGH_LEARNING_RATE:
        warnings.append(f"learning rate {config.learning_rate:g} is high: autoencoders trained above "
                        f"{HIGH_LEARNING_RATE:g} tend to collapse to noise")
    return warnings


def model_config(model: CodecModelConfig, sample_size: int) -> dict[str, Any]:
    """A stable-audio-tools ``autoencoder`` model config for ``model``."""
    mults, strides = list(model.c_mults), list(model.strides)
    encoder_latent = model.latent_dim * 2 if model.bottleneck == "vae" else model.latent_dim
    if model.bottleneck == "rvq":
        bottleneck = {"type": "rvq", "config": {"dim": model.latent_dim, "codebook_size": model.codebook_size,
                                                "num_quantizers": model.num_quantizers, "decay": 0.99,
                                                "kmeans_init": True, "kmeans_iters": 50,
                                                "threshold_ema_dead_code": 2}}
    elif model.bottleneck == "dac_rvq":
        bottleneck = {"type": "dac_rvq", "config": {"input_dim": model.latent_dim, "n_codebooks": model.num_quantizers,
                                                    "codebook_size": model.codebook_size,
                                                    "codebook_dim": model.codebook_dim,
                                                    "quantizer_dropout": model.quantizer_dropout}}
    else:
        bottleneck = {"type": "vae"}
    return {
        "model_type": "autoencoder", "sample_size": sample_size, "sample_rate": model.sample_rate,
        "audio_channels": model.audio_channels,
        "model": {
            "encoder": {"type": "oobleck", "config": {"in_channels": model.audio_channels, "channels": model.channels,
                                                      "c_mults": mults, "strides": strides,
                                                      "latent_dim": encoder_latent, "use_snake": model.use_snake}},
            "decoder": {"type": "oobleck", "config": {"out_channels": model.audio_channels, "channels": model.channels,
                                                      "c_mults": mults, "strides": strides,
                                                      "latent_dim": model.latent_dim, "use_snake": model.use_snake,
                                                      "final_tanh": False}},
            "bottleneck": bottleneck, "latent_dim": model.latent_dim, "downsampling_ratio": model.downsampling,
            "io_channels": model.audio_channels,
        },
    }


def training_section(config: AutoencoderTrainConfig, audio_channels: int) -> dict[str, Any]:
    """The ``training`` part of the config: losses, optimisers, EMA, warm-up."""
    scales = list(config.stft_sizes)
    hops = [max(1, s // 4) for s in scales]
    losses: dict[str, Any] = {
        "spectral": {"type": "mrstft", "config": {"fft_sizes": scales, "hop_sizes": hops, "win_lengths": scales,
                                                  "perceptual_weighting": False},
                     "weights": {"mrstft": config.stft_weight}},
        "time": {"type": "l1", "config": {}, "weights": {"l1": config.l1_weight}},
        "bottleneck": {"type": "kl", "weights": {"kl": config.kl_weight}},
    }
    if config.discriminator != "none":
        if config.discriminator == "encodec":
            disc = {"filters": config.discriminator_filters, "n_ffts": scales[:5], "hop_lengths": hops[:5],
                    "win_lengths": scales[:5]}
        elif config.discriminator == "oobleck":
            disc = {"in_channels": audio_channels}  # MSD + MPD, HiFi-GAN style; no width setting
        else:
            disc = {}
        losses["discriminator"] = {"type": config.discriminator, "config": disc,
                                   "weights": {"adversarial": config.adversarial_weight,
                                               "feature_matching": config.feature_matching_weight}}
    adam = {"type": "AdamW", "config": {"lr": config.learning_rate, "betas": [0.8, 0.99]}}
    return {"learning_rate": config.learning_rate, "use_ema": config.use_ema, "warmup_steps": config.warmup_steps,
            "loss_configs": losses, "optimizer_configs": {"autoencoder": {"optimizer": adam},
                                                          "discriminator": {"optimizer": copy.deepcopy(adam)}}}


# -- the two optional losses ---------------------------------------------------------------------------

def _downsample(audio: Any, factor: int) -> Any:
    """Band-limited decimation by an integer factor (torchaudio's windowed sinc)."""
    import torchaudio.functional as AF

    return AF.resample(audio, orig_freq=factor, new_freq=1) if factor > 1 else audio


def curriculum_weights(step: int, config: AutoencoderTrainConfig) -> tuple[float, float]:
    """(coarse weight, fine scale) at ``step``: coarse fades from full to 0, fine grows from fine_start to 1."""
    if config.curriculum_steps <= 0:
        return 0.0, 1.0
    progress = min(1.0, step / config.curriculum_steps)
    return config.curriculum_coarse_weight * (1.0 - progress), \
        config.curriculum_fine_start + (1.0 - config.curriculum_fine_start) * progress


def _loss_classes() -> tuple[type, type]:
    """The two loss modules, built on stable-audio-tools' ``LossModule`` (imported only when training)."""
    import torch
    from stable_audio_tools.training.losses.losses import LossModule

    class CoarseWaveformLoss(LossModule):
        """L1 between the decoded and real waveforms downsampled by ``factor``."""

        def __init__(self, factor: int, weight: float) -> None:
            super().__init__(name=f"coarse_x{factor}_loss", weight=weight)
            self.factor = factor

        def forward(self, info: dict[str, Any]) -> Any:
            self.decay_weight()
            if float(self.weight) == 0.0:
                return torch.zeros((), device=info["reals"].device)
            real = _downsample(info["reals"], self.factor)
            fake = _downsample(info["decoded"], self.factor)
            return self.weight * torch.nn.functional.l1_loss(fake, real)

    class StageLoss(LossModule):
        """Each decoder stage's channel average against the signal at that stage's rate (L1, mean over stages)."""

        def __init__(self, captured: dict[int, Any], weight: float) -> None:
            super().__init__(name="stage_loss", weight=weight)
            self.captured = captured

        def forward(self, info: dict[str, Any]) -> Any:
            self.decay_weight()
            reals = info["reals"].mean(dim=1, keepdim=True)
            total = torch.zeros((), device=reals.device)
            for index in sorted(self.captured):
                stage = self.captured[index].mean(dim=1, keepdim=True)
                factor = max(1, round(reals.shape[-1] / stage.shape[-1]))
                target = _downsample(reals, factor)
                length = min(stage.shape[-1], target.shape[-1])
                total = total + torch.nn.functional.l1_loss(stage[..., :length], target[..., :length])
            count = max(1, len(self.captured))
            self.captured.clear()
            return self.weight * total / count

    return CoarseWaveformLoss, StageLoss


def decoder_stages(autoencoder: Any) -> list[Any]:
    """The decoder's upsampling blocks, coarsest first (Oobleck ``DecoderBlock``s)."""
    from stable_audio_tools.models.autoencoders import DecoderBlock

    return [m for m in autoencoder.decoder.modules() if isinstance(m, DecoderBlock)]


def add_losses(wrapper: Any, config: AutoencoderTrainConfig) -> list[Any]:
    """Append the curriculum and stage losses to the wrapper's generator losses; returns the coarse modules."""
    coarse_cls, stage_cls = _loss_classes()
    coarse = []
    if config.curriculum_steps > 0:
        weight, _ = curriculum_weights(0, config)
        coarse = [coarse_cls(f, weight) for f in config.curriculum_factors]
        for module in coarse:
            wrapper.losses_gen.losses.append(module)
    if config.stage_loss_weight > 0:
        captured: dict[int, Any] = {}
        for index, block in enumerate(decoder_stages(wrapper.autoencoder)):
            block.register_forward_hook(lambda module, args, output, i=index: captured.__setitem__(i, output)
                                        if module.training else None)
        wrapper.losses_gen.losses.append(stage_cls(captured, config.stage_loss_weight))
    return coarse


def set_curriculum(wrapper: Any, coarse: list[Any], step: int, config: AutoencoderTrainConfig,
                   fine_base: dict[str, float]) -> None:
    """Move the curriculum's weights to ``step`` (master weights, which stable-audio-tools' losses read)."""
    weight, scale = curriculum_weights(step, config)
    for module in coarse:
        module.master_weight = weight
    for module in wrapper.losses_gen.losses:
        if module.name in fine_base:
            module.master_weight = fine_base[module.name] * scale


def _guard_losses(wrapper: Any) -> None:
    """A non-finite generator or discriminator loss raises before backward: no weight, no EMA changes."""
    import torch

    for name in ("losses_gen", "losses_disc"):
        losses = getattr(wrapper, name, None)
        if losses is None:
            continue
        original = losses.forward

        def guarded(info: dict[str, Any], original: Callable[..., Any] = original) -> Any:
            total, parts = original(info)
            if not torch.isfinite(total):
                raise NonFiniteLoss(int(wrapper.trainer.global_step) + 1)
            return total, parts

        losses.forward = guarded


# -- data -------------------------------------------------------------------------------------------

def split_sounds(sounds: list[tuple[np.ndarray, str]], examples: list[Example],
                 holdout: float) -> tuple[list[int], list[int]]:
    """Indices of training and held-out sounds: a stable choice by each file's name (not its order)."""
    if holdout <= 0 or len(sounds) < 2:
        return list(range(len(sounds))), []
    keys = [zlib.crc32(Path(e.sound).name.encode()) / 2 ** 32 for e in examples[: len(sounds)]]
    held = [i for i, k in enumerate(keys) if k < holdout]
    if not held:
        held = [int(np.argmin(keys))]
    if len(held) == len(sounds):
        held = held[:-1]
    return [i for i in range(len(sounds)) if i not in held], held


class Crops:
    """Random crops of the training sounds, the loudest of a few tries so that silence does not fill a batch."""

    def __init__(self, sounds: list[np.ndarray], length: int, seed: int, size: int, tries: int = 4) -> None:
        self.sounds, self.length, self.seed, self.size, self.tries = sounds, length, seed, size, tries

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: int) -> tuple[Any, dict[str, Any]]:
        import torch

        return torch.from_numpy(crop(self.sounds, self.length, np.random.default_rng([self.seed, index]),
                                     self.tries)), {}


def crop(sounds: list[np.ndarray], length: int, rng: np.random.Generator, tries: int = 4) -> np.ndarray:
    """One crop (channels, length), zero-padded; the loudest of ``tries`` random positions in a random sound."""
    audio = sounds[int(rng.integers(len(sounds)))]
    best, best_energy = None, -1.0
    for _ in range(max(1, tries)):
        start = int(rng.integers(0, max(1, audio.shape[1] - length + 1)))
        piece = audio[:, start:start + length]
        energy = float(np.mean(piece ** 2))
        if energy > best_energy:
            best, best_energy = piece, energy
    out = np.zeros((audio.shape[0], length), dtype=np.float32)
    out[:, : best.shape[1]] = best  # type: ignore[union-attr]
    return out


def fixed_crops(sounds: list[np.ndarray], length: int, count: int, seed: int) -> np.ndarray:
    """``count`` crops of the held-out sounds (each sound in turn), the same on every call."""
    rng = np.random.default_rng([seed, 7])
    return np.stack([crop([sounds[i % len(sounds)]], length, rng, tries=8) for i in range(count)])


# -- evaluation ---------------------------------------------------------------------------------------

def reconstruct(autoencoder: Any, audio: np.ndarray) -> np.ndarray:
    """Encode and decode a batch (batch, channels, samples) in eval mode, trimmed to the input length."""
    import torch

    was = autoencoder.training
    autoencoder.eval()
    device = next(autoencoder.parameters()).device
    with torch.no_grad():
        x = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32)).to(device)
        y = autoencoder.decode(autoencoder.encode(x))[..., : audio.shape[-1]]
    autoencoder.train(was)
    out = np.zeros_like(audio, dtype=np.float32)
    out[..., : y.shape[-1]] = y.float().cpu().numpy()
    return out


def reconstruction_metrics(real: np.ndarray, fake: np.ndarray, sample_rate: int) -> dict[str, float]:
    """Multi-resolution STFT distance, SI-SDR (dB) and mel distance (auraloss), averaged over a batch."""
    import auraloss
    import torch

    r = torch.from_numpy(np.ascontiguousarray(real, dtype=np.float32))
    f = torch.from_numpy(np.ascontiguousarray(fake, dtype=np.float32))
    if r.ndim == 2:
        r, f = r[None], f[None]
    sizes = [s for s in (2048, 1024, 512, 256, 128) if s <= r.shape[-1]]
    stft = auraloss.freq.MultiResolutionSTFTLoss(fft_sizes=sizes, hop_sizes=[s // 4 for s in sizes],
                                                 win_lengths=sizes)
    mel = auraloss.freq.MelSTFTLoss(sample_rate, fft_size=1024, hop_size=256, win_length=1024,
                                    n_mels=min(80, 1024 // 8))
    sisdr = auraloss.time.SISDRLoss()
    with torch.no_grad():
        return {"stft": float(stft(f, r)), "sisdr_db": float(-sisdr(f, r)), "mel": float(mel(f, r))}


# -- the run ----------------------------------------------------------------------------------------

@dataclass
class _Setup:
    """What a codec run and a decoder fine-tune differ in."""

    autoencoder: Any
    model_config: dict[str, Any]  # the autoencoder's, with "training"
    sample_rate: int
    channels: int
    downsampling: int
    export: Callable[[Any, Path], None]


def train_codec(examples: list[Example], model: CodecModelConfig, config: AutoencoderTrainConfig, run: Path,
                resume: bool = False, report: Report | None = None, stop_at: int | None = None) -> AutoencoderResult:
    """Train a codec or autoencoder of the preset's architecture; the run then loads with ``sfx codec --model RUN``."""
    from sfxcli.engines.sao.model import build_model

    check_run(run, resume)
    if model.bottleneck == "dac_rvq":
        try:
            import dac  # noqa: F401  (descript-audio-codec: stable-audio-tools' dac_rvq quantiser)
        except ImportError:
            raise TrainingError("the dac_rvq bottleneck needs descript-audio-codec",
                                "pip install --no-deps descript-audio-codec==1.0.0") from None
    length = _crop_length(config.seconds, model.sample_rate, model.downsampling)
    base = model_config(model, length)
    autoencoder = build_model(base, seed=config.seed)

    def export(wrapper: Any, folder: Path) -> None:
        from sfxcli.engines.sao.model import save_model

        save_model(_trained(wrapper), base, folder)
        info = {"version": 1, "kind": "codec", "bottleneck": model.bottleneck, "sample_rate": model.sample_rate,
                "channels": model.audio_channels, "downsampling": model.downsampling,
                "frame_rate_hz": model.frame_rate_hz, "num_quantizers": model.num_quantizers,
                "codebook_size": model.codebook_size, "latent_dim": model.latent_dim,
                "bitrate_bps": model.bitrate_bps}
        (folder / "codec.json").write_text(json.dumps(info, indent=2) + "\n")

    setup = _Setup(autoencoder, {**base, "training": training_section(config, model.audio_channels)}, model.sample_rate,
                   model.audio_channels, model.downsampling, export)
    (run / "preset.json").parent.mkdir(parents=True, exist_ok=True)
    (run / "preset.json").write_text(json.dumps({"model": asdict(model), "train": asdict(config)}, indent=2) + "\n")
    return _run(examples, setup, config, run, resume, report, stop_at)


def train_decoder(examples: list[Example], model_spec: str, config: AutoencoderTrainConfig, run: Path,
                  resume: bool = False, report: Report | None = None, stop_at: int | None = None) -> AutoencoderResult:
    """Fine-tune the decoder of a Stable Audio Open model's autoencoder (encoder and bottleneck frozen)."""
    from sfxcli.engines.sao import load_model

    check_run(run, resume)
    loaded = load_model(model_spec)
    pretransform = loaded.model.pretransform
    if pretransform is None or not hasattr(pretransform, "model"):
        raise TrainingError(f"model {model_spec} has no autoencoder to fine-tune")
    autoencoder = pretransform.model
    length = _crop_length(config.seconds, loaded.sample_rate, loaded.downsampling)
    ae_config = copy.deepcopy(loaded.config["model"]["pretransform"]["config"])
    base = {"model_type": "autoencoder", "sample_size": length, "sample_rate": loaded.sample_rate,
            "audio_channels": loaded.channels, "model": ae_config}
    autoencoder.float().train()
    autoencoder.requires_grad_(True)
    for part in (autoencoder.encoder, autoencoder.bottleneck):
        if part is not None:
            part.requires_grad_(False)

    def export(wrapper: Any, folder: Path) -> None:
        from sfxcli.engines.sao.model import save_model

        autoencoder.load_state_dict(_trained(wrapper).state_dict())
        autoencoder.eval()
        save_model(loaded.model, loaded.config, folder)
        (folder / "codec.json").write_text(json.dumps({"version": 1, "kind": "sao-decoder", "base": model_spec},
                                                      indent=2) + "\n")

    setup = _Setup(autoencoder, {**base, "training": training_section(config, loaded.channels)}, loaded.sample_rate, loaded.channels,
                   loaded.downsampling, export)
    run.mkdir(parents=True, exist_ok=True)
    (run / "preset.json").write_text(json.dumps({"model": model_spec, "train": asdict(config)}, indent=2) + "\n")
    return _run(examples, setup, config, run, resume, report, stop_at)


def _trained(wrapper: Any) -> Any:
    """The weights to export: the EMA copy when EMA is on."""
    ema = getattr(wrapper, "autoencoder_ema", None)
    return ema.ema_model if ema is not None else wrapper.autoencoder


def _crop_length(seconds: float, rate: int, downsampling: int) -> int:
    return max(1, int(round(seconds * rate / downsampling))) * downsampling


def _run(examples: list[Example], setup: _Setup, config: AutoencoderTrainConfig, run: Path, resume: bool,
         report: Report | None, stop_at: int | None) -> AutoencoderResult:
    import time

    import torch
    from pytorch_lightning.callbacks import Callback
    from stable_audio_tools.training.factory import create_training_wrapper_from_config

    from sfxcli.engines.sao.model import quiet_stable_audio

    report = report or (lambda message, fraction: None)
    started = time.perf_counter()
    last = run / "checkpoints" / "last.ckpt"
    run.mkdir(parents=True, exist_ok=True)
    notes = check_configs(None, config)
    sounds, prep_notes = prepare_sounds(examples, setup.sample_rate, setup.channels)
    notes += prep_notes
    length = _crop_length(config.seconds, setup.sample_rate, setup.downsampling)
    train_ids, held_ids = split_sounds(sounds, examples, config.holdout)
    train_audio = [sounds[i][0] for i in train_ids]
    demo_audio = fixed_crops([sounds[i][0] for i in (held_ids or train_ids)], length, max(1, config.demo_count),
                             config.seed)
    (run / "model_config.training.json").write_text(json.dumps(setup.model_config, indent=2) + "\n")
    if not (run / "dataset.json").is_file():  # a resume keeps the split it started with
        (run / "dataset.json").write_text(json.dumps({
            "train": [str(examples[i].sound) for i in train_ids], "held_out": [str(examples[i].sound) for i in held_ids],
            "sample_rate": setup.sample_rate, "channels": setup.channels, "crop_samples": length}, indent=2) + "\n")
    target = min(config.steps, stop_at) if stop_at is not None else config.steps
    first_step = checkpoint_step(last) if last.is_file() else 0
    initial = {k: v.detach().clone() for k, v in setup.autoencoder.state_dict().items()}
    dataset = Crops(train_audio, length, config.seed, config.steps * config.batch_size)

    def write_demos(wrapper: Any, step: int) -> None:
        import soundfile as sf

        folder = run / "demos" / f"step_{step:06d}"
        folder.mkdir(parents=True, exist_ok=True)
        fakes = reconstruct(_trained(wrapper), demo_audio)
        for i, (real, fake) in enumerate(zip(demo_audio, fakes, strict=True)):
            sf.write(folder / f"{i:02d}_real.wav", real.T, setup.sample_rate, subtype="PCM_24")
            sf.write(folder / f"{i:02d}_decoded.wav", np.clip(fake, -1, 1).T, setup.sample_rate, subtype="PCM_24")

    class Steps(Callback):
        """The curriculum, progress and demos."""

        def __init__(self, wrapper: Any, coarse: list[Any], fine_base: dict[str, float]) -> None:
            self.wrapper, self.coarse, self.fine_base = wrapper, coarse, fine_base

        def on_train_batch_start(self, trainer: Any, module: Any, batch: Any, batch_idx: int) -> None:
            set_curriculum(self.wrapper, self.coarse, trainer.global_step, config, self.fine_base)

        def on_train_batch_end(self, trainer: Any, module: Any, outputs: Any, batch: Any, batch_idx: int) -> None:
            step = trainer.global_step
            metrics = trainer.callback_metrics
            loss = metrics.get("train/loss")
            report(f"step {step}/{config.steps}" + (f" loss {float(loss):.4f}" if loss is not None else ""),
                   step / config.steps)
            if config.demo_every and step % config.demo_every == 0 and trainer.is_global_zero:
                write_demos(module, step)

    def build() -> tuple[Any, list[Any]]:
        with quiet_stable_audio():
            wrapper = create_training_wrapper_from_config(setup.model_config, setup.autoencoder)
        wrapper.clip_grad_norm = config.clip_grad_norm
        fine_base = {m.name: float(m.master_weight) for m in wrapper.losses_gen.losses
                     if m.name in ("mrstft_loss", "stft_loss_left", "stft_loss_right")}
        coarse = add_losses(wrapper, config)
        _guard_losses(wrapper)
        return wrapper, [Steps(wrapper, coarse, fine_base)]

    settings = RunSettings(target, config.batch_size, config.learning_rate, config.checkpoint_every, config.precision,
                           config.devices, config.num_nodes, config.strategy, config.seed, config.max_nan_restarts,
                           OOM_ADVICE, "lower --learning-rate (autoencoders want low ones), try --precision 32-true, "
                           "check the sounds")
    fitted = fit_guarded(build, lambda: torch.utils.data.DataLoader(
        dataset, batch_size=config.batch_size, shuffle=False, num_workers=0, collate_fn=collate, drop_last=False),
        run, settings, lambda: setup.autoencoder.load_state_dict(initial), notes, report)
    trainer, wrapper = fitted.trainer, fitted.wrapper
    steps = int(trainer.global_step)
    if steps % max(1, config.checkpoint_every) and trainer.is_global_zero:
        trainer.save_checkpoint(str(last))  # the pause at --stop-at, or a last step between checkpoints
    evaluation: dict[str, float] = {}
    if held_ids and trainer.is_global_zero:
        evaluation = reconstruction_metrics(demo_audio, reconstruct(_trained(wrapper), demo_audio), setup.sample_rate)
    if steps >= config.steps and trainer.is_global_zero:
        write_demos(wrapper, steps)
        setup.export(wrapper, run)
    plot_metrics(run)
    seconds = time.perf_counter() - started
    if trainer.is_global_zero:
        (run / "summary.json").write_text(json.dumps({
            "steps": steps, "restarts": fitted.restarts, "seconds": round(seconds, 1),
            "steps_this_session": steps - first_step,
            "steps_per_second": round((steps - first_step) / max(seconds, 1e-9), 3),  # wall clock, loading included
            "held_out": evaluation}, indent=2) + "\n")
    return AutoencoderResult(steps, run, fitted.restarts, notes, seconds, evaluation)


LOG_KEYS = ("loss", "mrstft_loss", "coarse_x16_loss", "coarse_x4_loss", "stage_loss", "quantizer_loss",
            "codebook_loss", "commitment_loss", "kl_loss", "loss_adv", "feature_matching_loss", "discriminator_loss")


def plot_metrics(run: Path) -> None:
    """Lightning's metrics as ``log.csv`` (step and every loss) and the curves as ``loss.png``; resumes keep earlier rows."""
    metrics = run / "logs" / "version_0" / "metrics.csv"
    if not metrics.is_file():
        return
    rows: dict[int, dict[str, str]] = {}
    log = run / "log.csv"
    if log.is_file():
        for row in csv.DictReader(open(log)):
            rows[int(row["step"])] = row
    new = list(csv.DictReader(open(metrics)))
    adversarial = any(r.get("train/discriminator_loss") for r in new)
    for row in new:
        step = int(row["step"])
        merged = rows.setdefault(step, {"step": str(step)})
        # with a discriminator, odd steps train it and even steps the autoencoder; Lightning repeats the
        # other kind's last values, so each row keeps only its own kind's figures
        disc_step = adversarial and step % 2 == 1
        for key, value in row.items():
            name = key[len("train/"):]
            if not key.startswith("train/") or not value or (name in ("discriminator_loss", "disc_lr")) != disc_step:
                continue
            merged[name] = value
    columns = ["step"] + sorted({k for r in rows.values() for k in r if k != "step"},
                                key=lambda k: (LOG_KEYS.index(k) if k in LOG_KEYS else len(LOG_KEYS), k))
    temp = log.with_suffix(".csv.part")
    with open(temp, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for step in sorted(rows):
            writer.writerow({k: rows[step].get(k, "") for k in columns})
    temp.replace(log)
    _plot(rows, run / "loss.png")


def _plot(rows: dict[int, dict[str, str]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure, axis = plt.subplots(figsize=(8, 4))
    for key in ("loss", "mrstft_loss", "stage_loss", "coarse_x16_loss", "discriminator_loss"):
        points = [(s, float(r[key])) for s, r in sorted(rows.items()) if r.get(key)]
        points = [(s, v) for s, v in points if math.isfinite(v)]
        if points:
            axis.plot(*zip(*points), lw=0.8, label=key)
    axis.set_xlabel("step")
    axis.set_ylabel("loss")
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
