"""``sfx train fx``: the FX estimator, trained on pairs of real clips through random settings of a chain.

Two stages, one run folder:

1. **beta-VAE** on log-mel frames of the pairs' dry and effected clips
   (``vae_steps``): the frame encoder the estimator starts from.
2. **Estimator** (``steps``): the frame encoder (fine-tuned at a tenth of the
   rate), dilated temporal convolutions and an MLP head predict the
   normalised setting. Its loss is ``param_weight`` x the squared error of the
   setting plus ``audio_weight`` x the level-matched multi-resolution STFT
   distance between the dry clip through the predicted setting and the
   effected clip. pedalboard is not differentiable, so the audio term's
   gradient with respect to the setting is estimated by SPSA: the chain is
   run at ``u + c delta`` and ``u - c delta`` for a random sign vector
   ``delta``, and ``(L+ - L-) / 2c * delta`` is passed back through the
   network. On a share ``blind_share`` of examples the dry clip is hidden, so
   the same model matches a reference alone.

Pairs come from ``training.fx_pairs`` in a background process, each batch a
function of (seed, stage, step // reuse) serving ``reuse`` steps, so a resumed run sees what an uninterrupted
one would. A run folder holds ``config.json``, ``checkpoint.safetensors`` +
``optimizer.pt`` + ``state.json`` (resume), ``log.csv`` (loss, parameter
loss, audio distance, held-out figures, events), ``loss.png``,
``best.safetensors`` and ``estimator.safetensors`` (what ``sfx fx match
--model RUN`` loads). A non-finite loss rolls back to the last good state
and halves the learning rate; three in a row stop the run.
"""

from __future__ import annotations

import copy
import csv
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from sfxcli.errors import DataError, TrainingError
from sfxcli.fxmatch.chain import Chain, parse_chain
from sfxcli.fxmatch.distance import MEL_BANDS, stft_distance
from sfxcli.fxmatch.estimator import (CONV_DILATIONS, CONV_KERNEL, MODEL_FORMAT, frame_parts, input_dim)
from sfxcli.match.features import RATE
from training.contrastive import RunResult
from training.fx_pairs import Pair, PairConfig, PairStats, load_sounds, pair_batch

CONFIG_VERSION = 1
SNAPSHOT_EVERY = 10
Report = Callable[[str, float], None]


@dataclass(frozen=True)
class FxTrainConfig:
    chain: str = "eq,compressor,reverb"
    steps: int = 1500
    batch_size: int = 24
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    warmup_steps: int = 50
    vae_steps: int = 300
    vae_batch_frames: int = 2048
    vae_beta: float = 2.0  # weight of the KL term (per latent dimension, against the per-band reconstruction error)
    latent_dim: int = 16
    channels: int = 64
    hidden: int = 128
    param_weight: float = 1.0
    audio_weight: float = 0.1
    spsa_examples: int = 8  # examples per batch whose audio loss is estimated (2 renders each)
    spsa_c: float = 0.05  # SPSA perturbation in normalised units
    blind_share: float = 0.3  # share of examples shown without their dry clip
    holdout: float = 0.1  # share of sounds kept out for evaluation
    eval_pairs: int = 48
    eval_every: int = 100
    checkpoint_every: int = 100
    seed: int = 0
    workers: int = 1  # background processes making pairs (0: in the training process)
    reuse: int = 2  # steps each batch of pairs serves (new blind masks and SPSA probes each time)
    max_nan_rollbacks: int = 3
    seconds: float = 1.5
    tail_seconds: float = 0.5
    min_cosine: float = 0.4
    init: str = ""  # an estimator (.safetensors or run folder) to start from: fine-tuning, no beta-VAE stage

    def pairs(self) -> PairConfig:
        return PairConfig(seconds=self.seconds, tail_seconds=self.tail_seconds, min_cosine=self.min_cosine)


@dataclass
class FxRunResult(RunResult):
    """A contrastive run's result, with what the pair pipeline made and how long training waited for it."""

    pair_stats: PairStats = field(default_factory=PairStats)
    waited_seconds: float = 0.0  # of ``seconds``, spent waiting for the pair pipeline


def _networks(config: FxTrainConfig, dims: int) -> tuple[Any, Any]:
    import torch
    from torch import nn

    class FrameVAE(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.enc1 = nn.Linear(MEL_BANDS, config.hidden)
            self.mu = nn.Linear(config.hidden, config.latent_dim)
            self.logvar = nn.Linear(config.hidden, config.latent_dim)
            self.dec1 = nn.Linear(config.latent_dim, config.hidden)
            self.dec2 = nn.Linear(config.hidden, MEL_BANDS)

        def encode(self, mel: torch.Tensor) -> torch.Tensor:
            return self.mu(torch.tanh(self.enc1(mel)))

        def loss(self, mel: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
            hidden = torch.tanh(self.enc1(mel))
            mu, logvar = self.mu(hidden), self.logvar(hidden).clamp(-10, 10)
            z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=generator)
            reconstruction = self.dec2(torch.tanh(self.dec1(z)))
            mse = ((reconstruction - mel) ** 2).mean(dim=1)
            kl = -0.5 * (1 + logvar - mu**2 - logvar.exp()).mean(dim=1)
            return (mse + config.vae_beta * kl * config.latent_dim / MEL_BANDS).mean()

    class Estimator(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.vae = FrameVAE()
            width = input_dim(config.latent_dim)
            self.convs = nn.ModuleList()
            for i, dilation in enumerate(CONV_DILATIONS):
                self.convs.append(nn.Conv1d(width if i == 0 else config.channels, config.channels, CONV_KERNEL,
                                            dilation=dilation, padding=dilation * (CONV_KERNEL - 1) // 2))
            self.head1 = nn.Linear(2 * config.channels, config.hidden)
            self.head2 = nn.Linear(config.hidden, dims)

        def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
            has = batch["has_dry"][:, :, None]  # (B, 1, 1)
            z_e = self.vae.encode(batch["mel_e"])
            z_d = self.vae.encode(batch["mel_d"]) * has
            difference = (batch["mel_e"] - batch["mel_d"]) * has
            flag = has.expand(-1, z_e.shape[1], 1)
            x = torch.cat([z_e, z_d, difference, batch["level_e"][..., None], batch["level_d"][..., None], flag], dim=2)
            h = x.transpose(1, 2)
            for conv in self.convs:
                h = torch.relu(conv(h))
            pooled = torch.cat([h.mean(dim=2), h.amax(dim=2)], dim=1)
            return torch.sigmoid(self.head2(torch.relu(self.head1(pooled))))

    return FrameVAE, Estimator


def _features(pairs: list[Pair], blind: np.ndarray) -> dict[str, np.ndarray]:
    """Stacked network inputs of a batch; the dry parts of ``blind`` examples hidden."""
    parts = [frame_parts(p.effected, None if b else p.dry) for p, b in zip(pairs, blind)]
    return {key: np.stack([part[key] for part in parts]) for key in parts[0]}


class _Batches:
    """An iterable of (stage, step) -> (features, pairs, stats), drawn deterministically; runs in a worker process."""

    def __init__(self, sounds: list[np.ndarray], names: list[str], chain: Chain, config: FxTrainConfig,
                 stage: str, start: int, end: int) -> None:
        self.sounds, self.names, self.chain, self.config = sounds, names, chain, config
        self.stage, self.start, self.end = stage, start, end

    def __iter__(self) -> Iterator[tuple[dict[str, np.ndarray], list[Pair], PairStats]]:
        offset = 1_000_000 if self.stage == "vae" else 0
        made: tuple[int, list[Pair], PairStats] | None = None
        for step in range(self.start, self.end):
            key = step // max(self.config.reuse, 1)
            if made is None or made[0] != key:
                made = (key, *pair_batch(self.sounds, self.chain, self.config.pairs(), self.config.batch_size,
                                         self.config.seed, offset + key, self.names))
                stats = made[2]
            else:
                stats = PairStats()  # counted once, when made
            pairs = made[1]
            rng = np.random.default_rng([self.config.seed, offset + step, 7])
            blind = rng.random(len(pairs)) < (self.config.blind_share if self.stage == "estimator" else 0.0)
            yield _features(pairs, blind), pairs, stats


def _loader(batches: _Batches, workers: int) -> Iterator[tuple[dict[str, np.ndarray], list[Pair], PairStats]]:
    if workers <= 0:
        return iter(batches)
    import torch

    class Dataset(torch.utils.data.IterableDataset):  # type: ignore[misc]
        def __iter__(self) -> Iterator[Any]:
            return iter(batches)

    loader = torch.utils.data.DataLoader(Dataset(), batch_size=None, num_workers=1, prefetch_factor=4,
                                         collate_fn=lambda item: item, persistent_workers=False)
    return iter(loader)


def _tensors(features: dict[str, np.ndarray]) -> dict[str, Any]:
    import torch

    return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in features.items()}


def spsa_gradient(chain: Chain, pairs: list[Pair], settings: np.ndarray, c: float, rng: np.random.Generator
                  ) -> tuple[np.ndarray, np.ndarray]:
    """SPSA estimates of d distance / d setting for each pair, and the distance there (mean of the two probes).

    For each pair a random sign vector ``delta``: the dry clip through
    ``u + c delta`` and ``u - c delta`` (clipped to [0, 1], with the step
    actually taken), compared with the effected clip.
    """
    gradients = np.zeros_like(settings)
    distances = np.zeros(len(pairs))
    for i, (pair, u) in enumerate(zip(pairs, settings)):
        delta = rng.choice([-1.0, 1.0], size=len(u))
        plus, minus = np.clip(u + c * delta, 0, 1), np.clip(u - c * delta, 0, 1)
        d_plus = stft_distance(chain.render(pair.dry, RATE, plus), pair.effected)
        d_minus = stft_distance(chain.render(pair.dry, RATE, minus), pair.effected)
        span = np.where(np.abs(plus - minus) > 1e-9, plus - minus, 2 * c * delta)
        gradients[i] = (d_plus - d_minus) / span
        distances[i] = 0.5 * (d_plus + d_minus)
    return gradients, distances


def default_manifest() -> Path:
    """The shared sound effects beside the project (``../shared/data/sfx/manifest.csv``), for ``sfx train fx``
    without ``--data``."""
    path = Path(__file__).resolve().parents[2] / "shared" / "data" / "sfx" / "manifest.csv"
    if not path.is_file():
        raise DataError("no --data given and no shared sound effects found", "pass --data MANIFEST.csv")
    return path


def split_sounds(n: int, holdout: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    held = max(1, int(round(n * holdout))) if holdout > 0 and n > 2 else 0
    return np.sort(order[held:]), np.sort(order[:held])


def evaluate(model: Any, chain: Chain, pairs: list[Pair], blind: bool = False) -> dict[str, float]:
    """Held-out figures: parameter error (mean absolute, normalised) and the audio distance the setting gives."""
    import torch

    model.eval()
    with torch.no_grad():
        predicted = model(_tensors(_features(pairs, np.full(len(pairs), blind)))).numpy().astype(np.float64)
    model.train()
    truth = np.stack([p.setting for p in pairs])
    distance = [stft_distance(chain.render(p.dry, RATE, u), p.effected) for p, u in zip(pairs, predicted)]
    prefix = "blind_" if blind else ""
    return {f"{prefix}param_mae": float(np.mean(np.abs(predicted - truth))), f"{prefix}stft": float(np.mean(distance))}


def _learning_rate(config: FxTrainConfig, step: int, total: int, scale: float) -> float:
    warm = min(1.0, step / max(config.warmup_steps, 1))
    cosine = 0.5 * (1 + np.cos(np.pi * min(step / max(total, 1), 1.0)))
    return float(config.learning_rate * scale * warm * (0.05 + 0.95 * cosine))


def save_estimator(model: Any, config: FxTrainConfig, path: Path, steps: int, evaluation: dict[str, float]) -> None:
    """The estimator's inference weights (frame encoder, convolutions, head) and its description; atomic."""
    from safetensors.torch import save_file

    keep = ("vae.enc1.", "vae.mu.", "convs.", "head1.", "head2.")
    tensors = {k: v.detach().contiguous() for k, v in model.state_dict().items() if k.startswith(keep)}
    meta = {"format": MODEL_FORMAT, "chain": config.chain, "latent_dim": config.latent_dim,
            "channels": config.channels, "hidden": config.hidden, "steps": steps,
            "evaluation": json.dumps({k: round(v, 4) for k, v in evaluation.items()})}
    temporary = path.with_name(path.name + ".tmp")
    save_file(tensors, str(temporary), metadata={"sfx_fx": json.dumps(meta)})
    temporary.replace(path)


def plot_losses(rows: list[dict[str, Any]], path: Path) -> None:
    """Training loss, parameter loss and audio distance per step, held-out distance per evaluation (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    for stage, axis in zip(("vae", "estimator"), axes):
        steps = [r["step"] for r in rows if r.get("stage") == stage and r.get("loss") != ""]
        for key in (("loss",) if stage == "vae" else ("loss", "param_loss", "audio_distance")):
            values = [r[key] for r in rows if r.get("stage") == stage and r.get("loss") != ""]
            if values:
                axis.plot(steps, values, lw=0.8, label=key)
        if stage == "estimator":
            held = [(r["step"], r["held_stft"]) for r in rows if r.get("held_stft") not in ("", None)]
            if held:
                axis.plot(*zip(*held), "o-", label="held-out STFT distance")
        axis.set_title("beta-VAE pretraining" if stage == "vae" else "estimator")
        axis.set_xlabel("step")
        if axis.lines:
            axis.legend(fontsize=8)
    figure.tight_layout()
    temporary = path.with_name(path.name + ".tmp.png")
    figure.savefig(temporary, dpi=90)
    plt.close(figure)
    temporary.replace(path)


LOG_COLUMNS = ["stage", "step", "loss", "param_loss", "audio_distance", "lr", "held_param_mae", "held_stft",
               "held_blind_param_mae", "held_blind_stft", "pairs", "rejected", "event"]


def _read_log(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    out = []
    for row in rows:
        parsed: dict[str, Any] = {}
        for k, v in row.items():
            try:
                parsed[k] = float(v) if k not in ("stage", "event") and v != "" else v
            except ValueError:
                parsed[k] = v
        out.append(parsed)
    return out


def _start_from(model: Any, path: Path, chain: Chain, config: FxTrainConfig) -> None:
    """Load an exported estimator's weights (its frame encoder, convolutions and head) into ``model``."""
    import torch

    from sfxcli.fxmatch.estimator import load_estimator

    source = load_estimator(path if path.suffix == ".safetensors" else path / "estimator.safetensors")
    info = source.info
    if (info.chain, info.latent_dim, info.channels, info.hidden) != (chain.name, config.latent_dim, config.channels,
                                                                       config.hidden):
        raise TrainingError(f"{path} is an estimator of chain {info.chain} with sizes {info.latent_dim}/"
                            f"{info.channels}/{info.hidden}; this run is {chain.name} with {config.latent_dim}/"
                            f"{config.channels}/{config.hidden}", "start from an estimator of the same chain and sizes")
    missing = model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in source.w.items()}, strict=False)
    if missing.unexpected_keys:
        raise TrainingError(f"{path} holds weights this estimator does not have: {missing.unexpected_keys[:3]}")


def train_fx(sound_paths: list[Path], config: FxTrainConfig, run: Path, resume: bool = False,
             report: Report | None = None, stop_at: int | None = None) -> FxRunResult:
    """Train (or continue) an estimator run in ``run``. ``stop_at`` pauses after that many steps of both
    stages together (state saved; continue with ``resume``)."""
    import torch
    from safetensors.torch import load_file, save_file

    report = report or (lambda message, fraction: None)
    chain = parse_chain(config.chain)
    run.mkdir(parents=True, exist_ok=True)
    state_path, checkpoint, optimizer_path = run / "state.json", run / "checkpoint.safetensors", run / "optimizer.pt"
    config_json = {"version": CONFIG_VERSION, **asdict(config)}
    if resume:
        if not state_path.is_file() or not checkpoint.is_file():
            raise TrainingError(f"nothing to resume in {run}", "start a new run without --resume")
        if json.loads((run / "config.json").read_text()) != config_json:
            raise TrainingError(f"{run} was started with another config; resume with the same preset and options")
    elif state_path.exists():
        raise TrainingError(f"{run} already holds a run", "pass --resume to continue it, or choose another --run folder")
    (run / "config.json").write_text(json.dumps(config_json, indent=2) + "\n")

    sounds, names, skipped = load_sounds(sound_paths, report)
    for line in skipped[:5]:
        report(f"skipped {line}", 0.0)
    train_idx, held_idx = split_sounds(len(sounds), config.holdout, config.seed)
    if len(train_idx) < 1:
        raise DataError("no sounds left for training after the held-out split")
    train_sounds = [sounds[i] for i in train_idx]
    train_names = [names[i] for i in train_idx]
    held_pairs: list[Pair] = []
    if len(held_idx):
        held_pairs, _ = pair_batch([sounds[i] for i in held_idx], chain, config.pairs(), config.eval_pairs,
                                   config.seed + 1, 0, [names[i] for i in held_idx])

    torch.manual_seed(config.seed)
    FrameVAE, EstimatorNet = _networks(config, chain.dims)
    model = EstimatorNet()
    if config.init:
        _start_from(model, Path(config.init), chain, config)
    vae_params = list(model.vae.parameters())
    other_params = [p for n, p in model.named_parameters() if not n.startswith("vae.")]
    optimizer = torch.optim.AdamW([{"params": vae_params, "name": "vae"}, {"params": other_params, "name": "net"}],
                                  lr=config.learning_rate, weight_decay=config.weight_decay)
    state = {"stage": "vae", "step": 0, "lr_scale": 1.0, "rollbacks": 0, "best": float("inf")}
    if resume:
        state = json.loads(state_path.read_text())
        model.load_state_dict(load_file(str(checkpoint)))
        optimizer.load_state_dict(torch.load(optimizer_path, weights_only=True))
    log_path = run / "log.csv"
    if not log_path.exists():
        with open(log_path, "w", newline="") as handle:
            csv.writer(handle).writerow(LOG_COLUMNS)

    def log(row: dict[str, Any]) -> None:
        with open(log_path, "a", newline="") as handle:
            csv.writer(handle).writerow([row.get(c, "") for c in LOG_COLUMNS])

    def save_state() -> None:
        save_file({k: v.detach().contiguous() for k, v in model.state_dict().items()}, str(checkpoint))
        torch.save(optimizer.state_dict(), optimizer_path)
        state_path.write_text(json.dumps(state))

    started = time.perf_counter()
    totals = {"vae": 0 if config.init else config.vae_steps, "estimator": config.steps}
    all_steps = totals["vae"] + config.steps
    done_before = lambda: (0 if state["stage"] == "vae" else totals["vae"]) + state["step"]  # noqa: E731
    limit = min(stop_at, all_steps) if stop_at else all_steps
    stats_total = PairStats()
    loss_value, evaluation = float("nan"), {}
    spsa_rng_base = config.seed * 7919
    waited = 0.0
    for stage in ("vae", "estimator"):
        if stage == "vae" and state["stage"] == "estimator":
            continue
        if state["stage"] != stage:
            state.update(stage=stage, step=0, lr_scale=1.0)
        total = totals[stage]
        if state["step"] >= total or done_before() >= limit:
            continue
        end = min(total, state["step"] + limit - done_before())
        batches = _loader(_Batches(train_sounds, train_names, chain, config, stage, state["step"], end), config.workers)
        good = (state["step"], copy.deepcopy(model.state_dict()), copy.deepcopy(optimizer.state_dict()))
        in_a_row, last_failure = 0, 0
        while state["step"] < end:
            step = state["step"]
            asked = time.perf_counter()
            features, pairs, stats = next(batches)
            waited += time.perf_counter() - asked
            stats_total.add(stats)
            lr = _learning_rate(config, step + 1, total, state["lr_scale"])
            for group in optimizer.param_groups:
                group["lr"] = lr * (0.1 if group["name"] == "vae" and stage == "estimator" else 1.0)
                if stage == "vae" and group["name"] == "net":
                    group["lr"] = 0.0
            tensors = _tensors(features)
            generator = torch.Generator().manual_seed(config.seed * 1_000_003 + step)
            row: dict[str, Any] = {"stage": stage, "step": step + 1, "lr": f"{lr:.3g}", "pairs": stats.pairs,
                                   "rejected": stats.rejected}
            if stage == "vae":
                frames = torch.cat([tensors["mel_e"].reshape(-1, MEL_BANDS), tensors["mel_d"].reshape(-1, MEL_BANDS)])
                pick = torch.randperm(len(frames), generator=generator)[: config.vae_batch_frames]
                loss = model.vae.loss(frames[pick], generator)
                backward = loss
            else:
                predicted = model(tensors)
                truth = torch.from_numpy(np.stack([p.setting for p in pairs]).astype(np.float32))
                param_loss = ((predicted - truth) ** 2).sum(dim=1).mean()  # per example, summed over the parameters
                k = min(config.spsa_examples, len(pairs))
                rng = np.random.default_rng([spsa_rng_base, step])
                gradient, distances = spsa_gradient(chain, pairs[:k], predicted[:k].detach().numpy().astype(np.float64),
                                                    config.spsa_c, rng)
                surrogate = (predicted[:k] * torch.from_numpy(gradient.astype(np.float32))).sum(dim=1).mean()
                audio = float(np.mean(distances))
                backward = config.param_weight * param_loss + config.audio_weight * surrogate
                loss = config.param_weight * param_loss + config.audio_weight * torch.tensor(audio)
                row.update(param_loss=round(float(param_loss.detach()), 5), audio_distance=round(audio, 4))
            optimizer.zero_grad()
            finite = bool(torch.isfinite(loss)) and bool(torch.isfinite(backward))
            if finite:
                backward.backward()
                finite = all(bool(torch.isfinite(p.grad).all()) for p in model.parameters() if p.grad is not None)
            if not finite:
                state["rollbacks"] += 1
                in_a_row += 1
                state["lr_scale"] *= 0.5
                last_failure = max(last_failure, step + 1)
                state["step"], weights, optimizer_state = good
                model.load_state_dict(weights)
                optimizer.load_state_dict(copy.deepcopy(optimizer_state))
                log({"stage": stage, "step": step + 1, "lr": f"{lr:.3g}",
                     "event": f"non-finite loss: back to step {state['step']}, learning rate x{state['lr_scale']:g}"})
                report(f"{stage} step {step + 1}: loss is not finite; rolled back to step {state['step']} and halved "
                       "the learning rate", done_before() / all_steps)
                if in_a_row >= config.max_nan_rollbacks:
                    save_state()
                    raise TrainingError(
                        f"the loss was NaN or infinite at {stage} step {step + 1} {in_a_row} times, even after lowering "
                        f"the learning rate to {lr:.2e}; stopped (the last good state is saved in {run})",
                        "lower learning_rate in the preset, check the data for broken files, then --resume")
                # the loader has moved on; restart it where the rollback put us
                batches = _loader(_Batches(train_sounds, train_names, chain, config, stage, state["step"], end),
                                  config.workers)
                continue
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            state["step"] = step + 1
            if state["step"] > last_failure:
                in_a_row = 0
            loss_value = float(loss.detach())
            row["loss"] = round(loss_value, 5)
            if state["step"] % SNAPSHOT_EVERY == 0:
                good = (state["step"], copy.deepcopy(model.state_dict()), copy.deepcopy(optimizer.state_dict()))
            if stage == "estimator" and held_pairs and (state["step"] % config.eval_every == 0 or state["step"] == total):
                evaluation = {**evaluate(model, chain, held_pairs), **evaluate(model, chain, held_pairs, blind=True)}
                row.update({f"held_{k}": round(v, 4) for k, v in evaluation.items()})
                if evaluation["stft"] < state["best"]:
                    state["best"] = evaluation["stft"]
                    save_estimator(model, config, run / "best.safetensors", state["step"], evaluation)
            log(row)
            if state["step"] % config.checkpoint_every == 0 or state["step"] == total:
                save_state()
            shown = f"{stage} step {state['step']}/{total} loss {loss_value:.4f}"
            if evaluation:
                shown += f" | held-out STFT distance {evaluation['stft']:.3f}"
            report(shown, done_before() / all_steps)
        save_state()
    plot_losses(_read_log(log_path), run / "loss.png")
    finished = state["stage"] == "estimator" and state["step"] >= config.steps
    model_path = run / "estimator.safetensors"
    if finished:
        save_estimator(model, config, model_path, state["step"], evaluation)
    return FxRunResult(done_before(), loss_value, evaluation, state["rollbacks"], time.perf_counter() - started,
                       model_path if finished else checkpoint, stats_total, waited)
