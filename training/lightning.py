"""The Lightning run every stable-audio-tools trainer in sfx shares: checkpoints, resume, the NaN guard, OOM advice.

A caller builds its training wrapper (and its own callbacks) in ``build``;
the wrapper raises ``NonFiniteLoss`` before any backward pass when its loss
is NaN or infinite. ``fit_guarded`` then restarts from the last checkpoint
(or the initial weights, through ``reset``) at half the learning rate, and
stops with a ``TrainingError`` after ``max_nan_restarts`` restarts. Out of
memory becomes a ``TrainingError`` with the caller's advice.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from sfxcli.errors import TrainingError

Report = Callable[[str, float], None]


class NonFiniteLoss(Exception):
    def __init__(self, step: int) -> None:
        super().__init__(f"non-finite loss at step {step}")
        self.step = step


@dataclass(frozen=True)
class RunSettings:
    max_steps: int
    batch_size: int
    learning_rate: float
    checkpoint_every: int
    precision: str
    devices: str
    num_nodes: int
    strategy: str
    seed: int
    max_nan_restarts: int
    oom_advice: str
    nan_hint: str  # what to try when the loss stays non-finite


@dataclass
class Fitted:
    trainer: Any
    wrapper: Any
    restarts: int


def quiet_lightning() -> None:
    """Lightning's own log lines off: sfx reports progress itself."""
    import logging

    for name in ("pytorch_lightning", "lightning.pytorch", "lightning_fabric"):
        logging.getLogger(name).setLevel(logging.WARNING)


def check_run(run: Path, resume: bool) -> None:
    """A new run needs an empty folder; --resume needs a last checkpoint in it."""
    if resume and not (run / "checkpoints" / "last.ckpt").is_file():
        raise TrainingError(f"nothing to resume in {run}", "start without --resume")
    if not resume and run.exists() and any(run.iterdir()):
        raise TrainingError(f"{run} is not empty", "choose a new --run folder, or --resume")


def checkpoint_step(path: Path) -> int:
    import torch

    return int(torch.load(str(path), map_location="cpu", weights_only=False).get("global_step", 0))


def fit_guarded(build: Callable[[], tuple[Any, list[Any]]], loader: Callable[[], Any], run: Path,
                settings: RunSettings, reset: Callable[[], None], notes: list[str],
                report: Report) -> Fitted:
    """Fit ``build()``'s wrapper on ``loader()`` into ``run``, resuming from ``run/checkpoints/last.ckpt``."""
    import pytorch_lightning as pl
    import torch
    from pytorch_lightning.callbacks import Callback, ModelCheckpoint
    from pytorch_lightning.loggers import CSVLogger

    from sfxcli.engines.sao.model import quiet_stable_audio

    quiet_lightning()
    last = run / "checkpoints" / "last.ckpt"
    state = {"restarts": 0, "scale": 1.0}

    class LearningRate(Callback):
        """After a restart the optimisers (fresh, or restored from a checkpoint) run at the reduced rate."""

        def on_train_start(self, trainer: Any, module: Any) -> None:
            for optimizer in trainer.optimizers:
                for group in optimizer.param_groups:
                    group["lr"] = settings.learning_rate * state["scale"]

    while True:
        pl.seed_everything(settings.seed + state["restarts"], verbose=False)
        wrapper, callbacks = build()
        trainer = pl.Trainer(
            max_steps=settings.max_steps, accelerator="auto", devices=settings.devices, num_nodes=settings.num_nodes,
            strategy=settings.strategy, precision=settings.precision, default_root_dir=str(run),
            logger=CSVLogger(str(run), name="logs", version=0), enable_progress_bar=False, enable_model_summary=False,
            callbacks=[ModelCheckpoint(dirpath=str(run / "checkpoints"), every_n_train_steps=settings.checkpoint_every,
                                       save_last=True, save_top_k=-1), LearningRate(), *callbacks],
            log_every_n_steps=1, num_sanity_val_steps=0)
        try:
            with quiet_stable_audio():
                trainer.fit(wrapper, loader(), ckpt_path=str(last) if last.is_file() else None)
            return Fitted(trainer, wrapper, state["restarts"])
        except NonFiniteLoss as error:
            state["restarts"] += 1
            state["scale"] *= 0.5
            where = f"the checkpoint at step {checkpoint_step(last)}" if last.is_file() else "the start"
            notes.append(f"non-finite loss at step {error.step}: restarted from {where} at learning rate "
                         f"x{state['scale']:g}")
            report(notes[-1], 0.0)
            if state["restarts"] >= settings.max_nan_restarts:
                raise TrainingError(
                    f"the loss was NaN or infinite {state['restarts']} times (last at step {error.step}); stopped",
                    f"{settings.nan_hint}; --resume continues from {last if last.is_file() else 'scratch'}") from None
            if not last.is_file():  # steps before the failure changed the weights: back to the initial ones
                reset()
        except torch.cuda.OutOfMemoryError:
            raise TrainingError(f"out of GPU memory at batch size {settings.batch_size}", settings.oom_advice) from None
        except RuntimeError as error:
            if "out of memory" in str(error).lower():
                raise TrainingError(f"out of memory at batch size {settings.batch_size}", settings.oom_advice) from None
            raise
