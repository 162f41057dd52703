"""`sfx train contrastive`: prepare features, train fusion + projections, evaluate, checkpoint, resume.

Encoders are frozen, so every sound and take is encoded once and cached on
disk (``$SFX_CACHE/contrastive``, keyed by file content and settings); a run
then trains only the small model, fast on a CPU.

A run folder holds:
- ``config.json``: the resolved training config (versioned);
- ``checkpoint.safetensors`` + ``optimizer.pt`` + ``state.json``: the latest
  state, for ``--resume``; ``best.safetensors``: the best evaluation so far;
- ``model.safetensors`` + ``model.json``: the trained model for use;
- ``log.csv``: loss, learning rate and evaluations per step.

Determinism: every step draws its batch and dropout from (seed, step), so a
resumed run continues exactly as an uninterrupted one would.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from sfxcli.errors import DataError, TrainingError
from sfxcli.library.store import load_cache, save_cache
from sfxcli.match.features import FEATURE_VERSION
from training.data import SPOKEN_VERSION, AugmentConfig, Example, augment, spoken_imitation, synthetic_imitation
from sfxcli.match.network import ModelConfig

CONFIG_VERSION = 1
SNAPSHOT_EVERY = 10  # steps between the in-memory states a non-finite loss rolls back to
Report = Callable[[str, float], None]


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 1000
    batch_size: int = 64
    learning_rate: float = 1e-3
    weight_decay: float = 0.05
    warmup_steps: int = 100
    eval_every: int = 100
    checkpoint_every: int = 100
    holdout: float = 0.1  # share of sounds kept out of training for evaluation
    synthetic_per_sound: int = 4  # synthetic takes made from each sound
    espeak_share: float = 0.0  # of those, the share spoken by espeak-ng (training.data.spoken_imitation), the rest voiced by the synthesiser
    augmented_per_take: int = 1  # augmented copies of each take (real or synthetic)
    drop_label: float = 0.3  # chance a training query loses its label
    drop_imitation: float = 0.2  # chance it loses its imitation
    seed: int = 0
    workers: int = 2  # processes preparing features
    max_nan_rollbacks: int = 3  # a non-finite loss rolls back and halves the rate; this many in a row stops the run


@dataclass(frozen=True)
class RunConfig:
    train: TrainConfig = field(default_factory=TrainConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    # the encoders are named once, in the model config
    @property
    def text_encoder(self) -> str:
        return self.model.text_encoder

    @property
    def imitation_encoder(self) -> str:
        return self.model.imitation_encoder

    @property
    def sound_encoder(self) -> str:
        return self.model.sound_encoder


def load_run_config(preset: str, overrides: dict[str, Any] | None = None) -> RunConfig:
    """A training preset (``presets/training/contrastive-<name>.toml``) with command-line overrides of [train]."""
    from sfxcli.presets import from_table, training_preset

    data, path = training_preset("contrastive", preset)
    where = str(path)
    unknown = sorted(set(data) - {"train", "model", "augment", "encoders"})
    if unknown:
        raise TrainingError(f"{where}: unknown table {unknown[0]!r} (known: train, model, augment, encoders)")
    train = from_table(TrainConfig, {**data.get("train", {}), **(overrides or {})}, f"{where}: [train]")
    augment_config = from_table(AugmentConfig, data.get("augment", {}), f"{where}: [augment]")
    encoders = data.get("encoders", {})
    if not isinstance(encoders, dict) or set(encoders) - {"text", "imitation", "sound", "unfreeze_top"}:
        raise TrainingError(f"{where}: [encoders] takes text, imitation, sound and unfreeze_top")
    model = from_table(ModelConfig, {**data.get("model", {}), "text_encoder": encoders.get("text", "minilm-words"),
                                     "imitation_encoder": encoders.get("imitation", "contours"),
                                     "sound_encoder": encoders.get("sound", "features"),
                                     "unfreeze_top": encoders.get("unfreeze_top", 0)}, f"{where}: [model]")
    if not (train.steps >= 1 and train.batch_size >= 2 and train.learning_rate > 0 and 0 <= train.holdout < 1):
        raise TrainingError(f"{where}: [train] needs steps >= 1, batch_size >= 2, learning_rate > 0, 0 <= holdout < 1")
    if not 0 <= train.espeak_share <= 1:
        raise TrainingError(f"{where}: [train] espeak_share is {train.espeak_share}; give a share from 0 to 1")
    return RunConfig(train, model, augment_config)


# -- features ---------------------------------------------------------------------------------------

@dataclass
class Prepared:
    """Encoded training data: one row per sound, and for each sound its takes' frame sequences."""

    labels: list[str]
    paths: list[Path]
    text: np.ndarray  # (sounds, text_dim)
    sounds: np.ndarray  # (sounds, sound_dim)
    takes: list[list[np.ndarray]]  # per sound: real, synthetic and augmented takes
    real_takes: list[int]  # per sound: how many of its takes (first) are real human imitations
    skipped: list[str]
    kinds: list[list[str]] = field(default_factory=list)  # per sound, per take: "real", "synthetic" or "espeak" (+ " augmented")


def _file_key(path: Path, extra: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    digest.update(extra.encode())
    return digest.hexdigest()[:32]


def espeak_count(share: float, takes: int, seed: int) -> int:
    """How many of a sound's TAKES synthetic takes espeak-ng speaks: SHARE of them, the fraction drawn from SEED."""
    exact = share * takes
    whole = int(exact)
    return min(takes, whole + int(np.random.default_rng(seed).random() < exact - whole))


Encoded = tuple[str, Any, list[Any], list[str], str | None]  # sound path, vector, takes' frames, their kinds, problem


def _encode_example(job: tuple[str, list[str], RunConfig, str]) -> Encoded:
    """One sound: its vector and all its takes' frames (cached). Runs in a worker process."""
    from sfxcli.audio import read_imitation, read_sound
    from sfxcli.errors import AudioInputError
    from sfxcli.match.encoders import imitation_encoder, sound_encoder

    sound_path, imitation_paths, config, cache = job
    settings = json.dumps([FEATURE_VERSION, config.imitation_encoder, config.model.unfreeze_top, config.sound_encoder,
                           imitation_paths,
                           config.train.synthetic_per_sound, config.train.augmented_per_take, asdict(config.augment),
                           config.train.seed] + ([config.train.espeak_share, SPOKEN_VERSION] if config.train.espeak_share else []),
                          sort_keys=True)
    try:
        key = _file_key(Path(sound_path), settings)
    except OSError as error:
        return sound_path, None, [], [], f"{sound_path}: {error.strerror}"
    cached = Path(cache) / f"{key}.npz"
    data = load_cache(cached)
    if data is not None and "n_takes" in data and "sound" in data and "kinds" in data:
        takes = [data[f"take{i}"] for i in range(int(data["n_takes"])) if f"take{i}" in data]
        if len(takes) == int(data["n_takes"]) == len(data["kinds"]):
            return sound_path, data["sound"], takes, [str(k) for k in data["kinds"]], None
    try:
        samples, rate = read_sound(sound_path)
        reals = [read_imitation(p, max_seconds=600.0) for p in imitation_paths]
    except AudioInputError as error:
        return sound_path, None, [], [], error.message
    sounds = sound_encoder(config.sound_encoder)
    imitations = imitation_encoder(config.imitation_encoder, config.model.unfreeze_top)
    vector = sounds.encode(samples, rate)
    raw = [(r.samples, r.sample_rate) for r in reals]
    kinds = ["real"] * len(raw)
    seed = int(key[:8], 16) ^ config.train.seed
    spoken = espeak_count(config.train.espeak_share, config.train.synthetic_per_sound, seed)
    for i in range(config.train.synthetic_per_sound):
        if i < spoken:
            raw.append((spoken_imitation(samples, rate, seed + i).audio, 16000))
            kinds.append("espeak")
        else:
            raw.append((synthetic_imitation(samples, rate, seed + i), 16000))
            kinds.append("synthetic")
    takes_audio = list(raw)
    for i, (audio, rate) in enumerate(raw):
        for j in range(config.train.augmented_per_take):
            result = augment(audio, rate, seed + 1000 * (i + 1) + j, config.augment)
            if result.rejected is None:
                takes_audio.append((result.audio, rate))
                kinds.append(f"{kinds[i]} augmented")
    takes = [imitations.encode(audio, rate) for audio, rate in takes_audio]
    save_cache(cached, {"sound": vector, "n_takes": np.array(len(takes)), "kinds": np.array(kinds),
                        **{f"take{i}": t for i, t in enumerate(takes)}})
    return sound_path, vector, takes, kinds, None


def prepare(examples: list[Example], config: RunConfig, report: Report | None = None) -> Prepared:
    """Encode every sound and take (in ``workers`` processes), reusing the on-disk cache."""
    from sfxcli.settings import cache_dir
    from sfxcli.match.encoders import text_encoder

    report = report or (lambda message, fraction: None)
    grouped: dict[Path, tuple[str, list[str]]] = {}
    for example in examples:
        label, takes = grouped.get(example.sound, (example.label, []))
        if example.imitation is not None:
            takes.append(str(example.imitation))
        grouped[example.sound] = (label, takes)
    cache = str(cache_dir() / "contrastive")
    jobs = [(str(path), takes, config, cache) for path, (_, takes) in grouped.items()]
    results: list[Encoded] = []
    if config.train.workers > 1 and len(jobs) > 8:
        import multiprocessing

        with multiprocessing.get_context("spawn").Pool(config.train.workers) as pool:
            for result in pool.imap(_encode_example, jobs, chunksize=4):
                results.append(result)
                report(f"encoded {len(results)}/{len(jobs)} sounds", len(results) / len(jobs))
    else:
        for job in jobs:
            results.append(_encode_example(job))
            report(f"encoded {len(results)}/{len(jobs)} sounds", len(results) / len(jobs))
    labels, paths, vectors, takes, reals, skipped, kinds = [], [], [], [], [], [], []
    for (path, (label, real)), (_, vector, sound_takes, take_kinds, problem) in zip(grouped.items(), results, strict=True):
        if problem is not None or vector is None:
            skipped.append(f"{path.name}: {problem}")
            continue
        labels.append(label)
        paths.append(path)
        vectors.append(vector)
        takes.append(sound_takes)
        reals.append(len(real))
        kinds.append(take_kinds)
    if len(labels) < 2:
        raise DataError(f"only {len(labels)} usable sound(s) after skipping {len(skipped)}; training needs at least 2",
                        "; ".join(skipped[:3]) or None)
    text = text_encoder(config.text_encoder).encode(labels)
    return Prepared(labels, paths, text, np.stack(vectors), takes, reals, skipped, kinds)


# -- evaluation -------------------------------------------------------------------------------------

def retrieval_metrics(queries: np.ndarray, sounds: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    """MRR and recall@1/5/10 of each query's target among all sounds (cosine on unit vectors)."""
    similarity = queries @ sounds.T
    target_scores = similarity[np.arange(len(queries)), targets]
    ranks = 1 + (similarity > target_scores[:, None]).sum(axis=1)
    return {"mrr": float(np.mean(1.0 / ranks)), "r1": float(np.mean(ranks <= 1)), "r5": float(np.mean(ranks <= 5)),
            "r10": float(np.mean(ranks <= 10))}


def random_mrr(n: int) -> float:
    """Expected MRR of a random ranking of n candidates."""
    return float(np.mean(1.0 / np.arange(1, n + 1)))


def evaluate(model: Any, data: Prepared, indices: np.ndarray) -> dict[str, float]:
    """Fused, imitation-only and label-only retrieval of held-out sounds by their first take."""
    import torch

    from sfxcli.match.network import pad_frames

    model.eval()
    with torch.no_grad():
        sounds = model.encode_sound(torch.from_numpy(data.sounds[indices])).numpy()
        frames, mask = pad_frames([data.takes[i][0] if data.takes[i] else None for i in indices],
                                  model.config.imitation_dim)
        text = torch.from_numpy(data.text[indices])
        has_text = torch.from_numpy(np.abs(data.text[indices]).sum(axis=1) > 0)
        none = torch.zeros(len(indices), dtype=torch.bool)
        out: dict[str, float] = {}
        for kind, t_mask, f_mask in (("fused", has_text, mask), ("imitation", none, mask),
                                     ("label", has_text, torch.zeros_like(mask))):
            queries = model.encode_query(text, t_mask, frames, f_mask).numpy()
            for metric, value in retrieval_metrics(queries, sounds, np.arange(len(indices))).items():
                out[f"{kind}_{metric}"] = value
    model.train()
    out["random_mrr"] = random_mrr(len(indices))
    return out


# -- the run ----------------------------------------------------------------------------------------

def split(n: int, holdout: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    n_eval = min(max(int(round(n * holdout)), 8 if holdout > 0 else 0), n // 2)
    return np.sort(order[n_eval:]), np.sort(order[:n_eval])


def _batch(data: Prepared, train: np.ndarray, config: TrainConfig, step: int) -> tuple[Any, ...]:
    import torch

    from sfxcli.match.network import pad_frames

    rng = np.random.default_rng([config.seed, step])
    chosen = rng.choice(train, size=min(config.batch_size, len(train)), replace=False)
    takes = [data.takes[i][rng.integers(len(data.takes[i]))] if data.takes[i] else None for i in chosen]
    keep_text = (rng.random(len(chosen)) >= config.drop_label) & (np.abs(data.text[chosen]).sum(axis=1) > 0)
    keep_frames = rng.random(len(chosen)) >= config.drop_imitation
    keep_frames |= ~keep_text  # never drop both
    takes = [t if keep else None for t, keep in zip(takes, keep_frames, strict=True)]
    frames, mask = pad_frames(takes, next(len(t[0]) for ts in data.takes for t in ts))
    return (torch.from_numpy(data.text[chosen]), torch.from_numpy(keep_text), frames, mask,
            torch.from_numpy(data.sounds[chosen]))


def _learning_rate(config: TrainConfig, step: int, scale: float) -> float:
    warm = min(1.0, step / max(config.warmup_steps, 1))
    cosine = 0.5 * (1 + math.cos(math.pi * min(step, config.steps) / config.steps))
    return config.learning_rate * scale * warm * (0.05 + 0.95 * cosine)


def save_model(model: Any, config: RunConfig, path: Path, extra: dict[str, Any] | None = None) -> None:
    """Weights (safetensors, with the model description in its metadata) and a readable JSON beside them."""
    from safetensors.torch import save_file

    from sfxcli.match.model import FORMAT, VERSION

    description = {"format": FORMAT, "version": VERSION, "model": asdict(model.config),
                   "encoders": {"text": config.text_encoder, "imitation": config.imitation_encoder,
                                "sound": config.sound_encoder}, **(extra or {})}
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.part")
    save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, str(temp),
              metadata={"sfx": json.dumps(description)})
    temp.replace(path)
    path.with_suffix(".json").write_text(json.dumps(description, indent=2) + "\n")


def fit_normalisation(model: Any, frames: list[np.ndarray], sounds: np.ndarray) -> None:
    """Set the network's input means and spreads from the training features."""
    import torch

    stacked = np.concatenate([f for f in frames if len(f)], axis=0)
    with torch.no_grad():
        model.imitation_mean.copy_(torch.from_numpy(stacked.mean(axis=0)))
        model.imitation_std.copy_(torch.from_numpy(np.maximum(stacked.std(axis=0), 1e-3)))
        model.sound_mean.copy_(torch.from_numpy(sounds.mean(axis=0)))
        model.sound_std.copy_(torch.from_numpy(np.maximum(sounds.std(axis=0), 1e-3)))


@dataclass
class RunResult:
    steps: int
    final_loss: float
    evaluation: dict[str, float]
    rollbacks: int
    seconds: float
    model_path: Path


def train(data: Prepared, config: RunConfig, run: Path, resume: bool = False, report: Report | None = None,
          wandb: bool = False, stop_at: int | None = None) -> RunResult:
    """Train (or continue) a run in ``run``; raises ``TrainingError`` on divergence.

    ``stop_at`` pauses after that step with the state saved (continue with ``resume``).
    """
    import torch
    from safetensors.torch import load_file, save_file

    from sfxcli.match.network import ContrastiveModel
    from training.losses import info_nce

    report = report or (lambda message, fraction: None)
    tc = config.train
    run.mkdir(parents=True, exist_ok=True)
    state_path, checkpoint, optimizer_path = run / "state.json", run / "checkpoint.safetensors", run / "optimizer.pt"
    config_json = {"version": CONFIG_VERSION, **json.loads(json.dumps(asdict(config), default=str))}
    if resume:
        if not state_path.is_file() or not checkpoint.is_file():
            raise TrainingError(f"nothing to resume in {run}", "start a new run without --resume")
        saved = json.loads((run / "config.json").read_text())
        if saved != config_json:
            raise TrainingError(f"{run} was started with another config; resume with the same preset and options")
    elif state_path.exists():
        raise TrainingError(f"{run} already holds a run", "pass --resume to continue it, or choose another --run folder")
    (run / "config.json").write_text(json.dumps(config_json, indent=2) + "\n")

    train_idx, eval_idx = split(len(data.labels), tc.holdout, tc.seed)
    if len(train_idx) < 2:
        raise DataError(f"only {len(train_idx)} training sound(s) after holding out {len(eval_idx)}")
    torch.manual_seed(tc.seed)
    model_config = ModelConfig(**{**asdict(config.model), "text_dim": data.text.shape[1],
                                  "imitation_dim": next(t.shape[1] for ts in data.takes for t in ts),
                                  "sound_dim": data.sounds.shape[1]})
    top = None
    if model_config.unfreeze_top:
        from sfxcli.match.encoders import top_layers

        top = top_layers(config.imitation_encoder, model_config.unfreeze_top)
    model = ContrastiveModel(model_config, top)
    fit_normalisation(model, [t for i in train_idx for t in data.takes[i]], data.sounds[train_idx])
    optimizer = torch.optim.AdamW(model.parameters(), lr=tc.learning_rate, weight_decay=tc.weight_decay)
    step, scale, best, rollbacks = 0, 1.0, -1.0, 0
    if resume:
        state = json.loads(state_path.read_text())
        step, scale, best, rollbacks = state["step"], state["lr_scale"], state["best"], state["rollbacks"]
        model.load_state_dict(load_file(str(checkpoint)))
        optimizer.load_state_dict(torch.load(optimizer_path, weights_only=True))
    log_path = run / "log.csv"
    columns = ["step", "loss", "lr", "fused_mrr", "imitation_mrr", "label_mrr", "fused_r1", "fused_r5", "fused_r10",
               "random_mrr", "event"]
    if not log_path.exists():
        with open(log_path, "w", newline="") as handle:
            csv.writer(handle).writerow(columns)
    tracker = None
    if wandb:
        import wandb as wandb_module

        tracker = wandb_module.init(project="sfx-contrastive", dir=str(run), config=config_json, resume="allow")

    def log(row: dict[str, Any]) -> None:
        with open(log_path, "a", newline="") as handle:
            csv.writer(handle).writerow([row.get(c, "") for c in columns])
        if tracker is not None:
            tracker.log({k: v for k, v in row.items() if isinstance(v, (int, float))}, step=row["step"])

    def save_state() -> None:
        save_file({k: v.detach().contiguous() for k, v in model.state_dict().items()}, str(checkpoint))
        torch.save(optimizer.state_dict(), optimizer_path)
        state_path.write_text(json.dumps({"step": step, "lr_scale": scale, "best": best, "rollbacks": rollbacks}))

    started = time.perf_counter()
    model.train()

    def snapshot() -> tuple[int, dict[str, Any], dict[str, Any]]:
        return step, {k: v.clone() for k, v in model.state_dict().items()}, copy.deepcopy(optimizer.state_dict())

    good = snapshot()  # where a non-finite loss rolls back to (refreshed every SNAPSHOT_EVERY steps)
    in_a_row, last_failure, loss_value = 0, 0, float("nan")
    evaluation: dict[str, float] = {}
    end = min(tc.steps, stop_at) if stop_at else tc.steps
    while step < end:
        torch.manual_seed(tc.seed * 1_000_003 + step)
        lr = _learning_rate(tc, step + 1, scale)
        for group in optimizer.param_groups:
            group["lr"] = lr
        text, has_text, frames, mask, sounds = _batch(data, train_idx, tc, step)
        loss = info_nce(model.encode_query(text, has_text, frames, mask), model.encode_sound(sounds), model.logit_scale)
        optimizer.zero_grad()
        finite = bool(torch.isfinite(loss))
        if finite:
            loss.backward()
            finite = all(bool(torch.isfinite(p.grad).all()) for p in model.parameters() if p.grad is not None)
        if not finite:
            rollbacks += 1
            in_a_row += 1
            scale *= 0.5
            failed_at = step + 1
            last_failure = max(last_failure, failed_at)
            step, weights, optimizer_state = good
            model.load_state_dict(weights)
            optimizer.load_state_dict(copy.deepcopy(optimizer_state))
            log({"step": failed_at, "lr": lr, "event": f"non-finite loss: back to step {step}, learning rate x{scale:g}"})
            report(f"step {failed_at}: loss is not finite; rolled back to step {step} and halved the learning rate", 0.0)
            if in_a_row >= tc.max_nan_rollbacks:
                save_state()
                raise TrainingError(
                    f"the loss was NaN or infinite at step {failed_at} {in_a_row} times, even after lowering the learning rate to "
                    f"{lr:.2e}; stopped (the last good state, step {step}, is saved in {run})",
                    "lower learning_rate in the preset, check the data for broken files, then --resume")
            continue
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        step += 1
        if step > last_failure:  # got past the step that failed: the next failure starts a new count
            in_a_row = 0
        loss_value = loss.item()
        if step % SNAPSHOT_EVERY == 0:
            good = snapshot()
        row: dict[str, Any] = {"step": step, "loss": round(loss_value, 5), "lr": lr}
        if len(eval_idx) and (step % tc.eval_every == 0 or step == tc.steps):
            evaluation = evaluate(model, data, eval_idx)
            row.update({k: round(v, 4) for k, v in evaluation.items()})
            if evaluation["fused_mrr"] > best:
                best = evaluation["fused_mrr"]
                save_model(model, config, run / "best.safetensors", {"step": step, "evaluation": evaluation})
        log(row)
        if step % tc.checkpoint_every == 0 or step == tc.steps:
            save_state()
        shown = f"step {step}/{tc.steps} loss {loss_value:.3f}"
        if evaluation:
            shown += f" | held-out MRR fused {evaluation['fused_mrr']:.3f} (random {evaluation['random_mrr']:.3f})"
        report(shown, step / tc.steps)
    save_state()
    model_path = run / "model.safetensors"
    if step < tc.steps:  # paused: the state is saved, the model is not final
        return RunResult(step, loss_value, evaluation, rollbacks, time.perf_counter() - started, checkpoint)
    save_model(model, config, model_path, {"step": step, "evaluation": evaluation, "sounds": len(data.labels)})
    if tracker is not None:
        tracker.finish()
    return RunResult(step, loss_value, evaluation, rollbacks, time.perf_counter() - started, model_path)
