"""``sfx train``: retrain sfx's models on your own sounds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

app = typer.Typer(help="Train sfx's models on your own sounds.", no_args_is_help=True)


@app.command("contrastive")
def contrastive(
    data: Optional[Path] = typer.Option(None, "--data", help="A manifest CSV (label, sound[, imitation]; paths relative to it)."),
    vimsketch: Optional[Path] = typer.Option(None, "--vimsketch", help="A VimSketch folder (references/, vocal_imitations/)."),
    run: Path = typer.Option(Path("runs/contrastive"), "--run", help="Run folder: checkpoints, logs, the trained model."),
    preset: str = typer.Option("default", "--preset", help="Training preset: presets/training/contrastive-NAME.toml."),
    steps: Optional[int] = typer.Option(None, "--steps", help="Override the preset's step count."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Override the preset's seed."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --run from its last checkpoint."),
    stop_at: Optional[int] = typer.Option(None, "--stop-at", help="Pause after this step (state saved; continue with --resume)."),
    wandb: bool = typer.Option(False, "--wandb", help="Also log to Weights & Biases (local CSV logs are always written)."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON report on stdout."),
) -> None:
    """Train the imitation + label -> sound embedding model (fusion and projections; encoders frozen)."""
    from rich.console import Console

    from sfxcli.errors import UsageError
    from training.contrastive import load_run_config, prepare, train
    from training.data import read_manifest, read_vimsketch

    if (data is None) == (vimsketch is None):
        raise UsageError("give exactly one of --data MANIFEST.csv or --vimsketch FOLDER")
    overrides = {k: v for k, v in (("steps", steps), ("seed", seed)) if v is not None}
    config = load_run_config(preset, overrides)
    examples = read_manifest(data) if data is not None else read_vimsketch(vimsketch)  # type: ignore[arg-type]
    console = Console(stderr=True, highlight=False)
    with _progress(console) as bar:
        task = bar.add_task("encoding", total=1.0)
        prepared = prepare(examples, config, lambda message, fraction: bar.update(task, description=message, completed=fraction))
    spoken = sum(k.startswith("espeak") for kinds in prepared.kinds for k in kinds)
    console.print(f"{len(prepared.labels)} sounds, {sum(len(t) for t in prepared.takes)} takes "
                  f"({sum(prepared.real_takes)} real imitations, {spoken} spoken by espeak-ng)"
                  + (f"; skipped {len(prepared.skipped)}" if prepared.skipped else ""))
    for line in prepared.skipped[:10]:
        console.print(f"  [yellow]skipped[/] {line}")
    with _progress(console) as bar:
        task = bar.add_task("training", total=1.0)

        def report(message: str, fraction: float) -> None:
            if message.startswith("step") and "not finite" in message:
                console.print(f"[yellow]{message}[/]")
            bar.update(task, description=message, completed=fraction)

        result = train(prepared, config, run, resume=resume, report=report, wandb=wandb, stop_at=stop_at)
    summary = {"run": str(run.resolve()), "model": str(result.model_path.resolve()), "steps": result.steps,
               "final_loss": round(result.final_loss, 4), "rollbacks": result.rollbacks,
               "seconds": round(result.seconds, 1), "evaluation": result.evaluation}
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    evaluation = result.evaluation
    if evaluation:
        console.print(f"held-out sounds: MRR fused {evaluation['fused_mrr']:.3f}, imitation only "
                      f"{evaluation['imitation_mrr']:.3f}, label only {evaluation['label_mrr']:.3f} "
                      f"(random {evaluation['random_mrr']:.3f}); recall@1/5/10 fused {evaluation['fused_r1']:.2f}/"
                      f"{evaluation['fused_r5']:.2f}/{evaluation['fused_r10']:.2f}")
    typer.echo(str(result.model_path))


def _progress(console: "Console") -> "Progress":
    """The progress bar every training command shows on stderr: description, bar, percent, time left."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                    TimeRemainingColumn(), console=console, transient=True)


def _preset(kind: str, name: str, cls: type, overrides: dict[str, object]) -> object:
    """A training preset's [train] table as ``cls``, with the options the user gave on top."""
    from sfxcli.errors import TrainingError
    from sfxcli.presets import from_table, training_preset

    data, path = training_preset(kind, name)
    if set(data) - {"train"}:
        raise TrainingError(f"{path}: only a [train] table is read here")
    return from_table(cls, {**data.get("train", {}), **{k: v for k, v in overrides.items() if v is not None}},
                      f"{path}: [train]")


@app.command("controls")
def controls(
    data: Path = typer.Option(..., "--data", help="A manifest CSV (label, sound; paths relative to it)."),
    model: str = typer.Option("debug", "--model", help="The Stable Audio Open model to adapt: hub id, folder or 'debug'."),
    run: Path = typer.Option(Path("runs/controls"), "--run", help="New run folder: the adapter, log.csv, loss.png."),
    preset: str = typer.Option("default", "--preset", help="Training preset: presets/training/controls-NAME.toml."),
    steps: Optional[int] = typer.Option(None, "--steps", help="Training steps."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", help="Crops per step."),
    learning_rate: Optional[float] = typer.Option(None, "--learning-rate", help="Adapter learning rate."),
    seconds: Optional[float] = typer.Option(None, "--seconds", help="Crop length in seconds."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Seed for crops, batches and noise."),
) -> None:
    """Train a controls adapter so a model follows loudness, brightness and pitch curves (Sketch2Sound-style)."""
    from rich.console import Console

    from sfxcli.errors import UsageError
    from training.adapter import ControlsConfig, train_controls
    from training.data import read_manifest

    config: ControlsConfig = _preset("controls", preset, ControlsConfig, {  # type: ignore[assignment]
        "steps": steps, "batch_size": batch_size, "learning_rate": learning_rate, "seconds": seconds, "seed": seed})
    if config.steps < 1 or config.batch_size < 1 or config.learning_rate <= 0 or not 0.5 <= config.seconds <= 47:
        raise UsageError("steps and batch size must be at least 1, the learning rate positive, seconds 0.5..47")
    if config.checkpoint_every > config.steps:
        from dataclasses import replace

        config = replace(config, checkpoint_every=config.steps)
    examples = read_manifest(data)
    console = Console(stderr=True, highlight=False)
    with _progress(console) as bar:
        task = bar.add_task("loading", total=1.0)
        result = train_controls(examples, model, config, run,
                                lambda message, fraction: bar.update(task, description=message, completed=fraction))
    console.print(f"{result.steps} steps in {result.seconds:.0f} s, final loss {result.final_loss:.4f}; "
                  f"loss curve in {run / 'loss.png'}")
    console.print(f"use it: sfx gen TAKE LABEL --engine sao --model {model} --adapter {result.adapter_path}")
    typer.echo(str(result.adapter_path))


@app.command("finetune")
def finetune_command(
    data: Path = typer.Option(..., "--data", help="A manifest CSV (label, sound; paths relative to it)."),
    model: str = typer.Option("debug", "--model", help="The base model: hub id, local folder, or 'debug'."),
    run: Path = typer.Option(Path("runs/finetune"), "--run", help="Run folder; afterwards `sfx gen --engine sao --model RUN`."),
    preset: str = typer.Option("default", "--preset", help="Training preset: presets/training/finetune-NAME.toml."),
    steps: Optional[int] = typer.Option(None, "--steps", help="Training steps (total, also when resuming)."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", help="Crops per step (per device)."),
    learning_rate: Optional[float] = typer.Option(None, "--learning-rate", help="Learning rate."),
    seconds: Optional[float] = typer.Option(None, "--seconds", help="Crop length in seconds."),
    pre_encode: Optional[bool] = typer.Option(None, "--pre-encode/--no-pre-encode", help="Encode crops to latents once and train on those."),
    ema: Optional[bool] = typer.Option(None, "--ema/--no-ema", help="Keep an EMA of the weights and export it."),
    demo_every: Optional[int] = typer.Option(None, "--demo-every", help="Write demo generations every N steps (0: never)."),
    checkpoint_every: Optional[int] = typer.Option(None, "--checkpoint-every", help="Checkpoint every N steps."),
    precision: Optional[str] = typer.Option(None, "--precision", help="Lightning precision: 32-true, 16-mixed, bf16-mixed."),
    devices: Optional[str] = typer.Option(None, "--devices", help="Lightning devices: auto, a count, or a list such as 0,1."),
    num_nodes: Optional[int] = typer.Option(None, "--num-nodes", help="Machines (multi-node needs a launcher, see the README)."),
    strategy: Optional[str] = typer.Option(None, "--strategy", help="Lightning strategy: auto, ddp, deepspeed_stage_2, fsdp."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Seed."),
    resume: bool = typer.Option(False, "--resume", help="Continue from the run folder's last checkpoint."),
) -> None:
    """Fine-tune a Stable Audio Open model on your sounds (stable-audio-tools' training wrapper, Lightning)."""
    from rich.console import Console

    from sfxcli.errors import UsageError
    from training.data import read_manifest
    from training.finetune import FinetuneConfig, finetune

    config: FinetuneConfig = _preset("finetune", preset, FinetuneConfig, {  # type: ignore[assignment]
        "steps": steps, "batch_size": batch_size, "learning_rate": learning_rate, "seconds": seconds,
        "pre_encode": pre_encode, "use_ema": ema, "demo_every": demo_every, "checkpoint_every": checkpoint_every,
        "precision": precision, "devices": devices, "num_nodes": num_nodes, "strategy": strategy, "seed": seed})
    if (config.steps < 1 or config.batch_size < 1 or config.learning_rate <= 0 or not 0.5 <= config.seconds <= 47
            or config.checkpoint_every < 1 or config.demo_every < 0):
        raise UsageError("steps, batch size and checkpoint interval must be at least 1, the learning rate positive, "
                         "seconds 0.5..47")
    examples = read_manifest(data)
    console = Console(stderr=True, highlight=False)
    with _progress(console) as bar:
        task = bar.add_task("loading", total=1.0)

        def report(message: str, fraction: float) -> None:
            if message.startswith("non-finite"):
                console.print(f"[yellow]{message}[/]")
            bar.update(task, description=message, completed=fraction)

        result = finetune(examples, model, config, run, resume=resume, report=report)
    for note in result.notes:
        console.print(note)
    console.print(f"{result.steps} steps; demos in {run / 'demos'}, loss curve in {run / 'loss.png'}")
    console.print(f"use it: sfx gen TAKE LABEL --engine sao --model {run}")
    typer.echo(str(run))


@app.command("fx")
def fx_command(
    data: Optional[Path] = typer.Option(None, "--data", help="A manifest CSV (label, sound; paths relative to it); "
                                        "default: the shared sound effects next to the project, if present."),
    chain: Optional[str] = typer.Option(None, "--chain", help="Chain elements in order (see `sfx fx elements`)."),
    run: Path = typer.Option(Path("runs/fx"), "--run", help="Run folder; afterwards `sfx fx match REF --model RUN`."),
    preset: str = typer.Option("default", "--preset", help="Training preset: presets/training/fx-NAME.toml."),
    steps: Optional[int] = typer.Option(None, "--steps", help="Estimator training steps."),
    vae_steps: Optional[int] = typer.Option(None, "--vae-steps", help="beta-VAE pretraining steps."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", help="Pairs per step."),
    learning_rate: Optional[float] = typer.Option(None, "--learning-rate", help="Learning rate."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Seed for pairs, batches and SPSA."),
    init: Optional[str] = typer.Option(None, "--init", help="Start from this estimator (run folder, .safetensors, "
                                       "or 'shipped'): fine-tune it on your sounds, no beta-VAE stage."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --run from its last checkpoint."),
    stop_at: Optional[int] = typer.Option(None, "--stop-at", help="Pause after this many steps of both stages "
                                          "(state saved; continue with --resume)."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON report on stdout."),
) -> None:
    """Train the FX estimator on your sounds: pairs through random settings of the chain, beta-VAE then SPSA."""
    from rich.console import Console

    from sfxcli.errors import UsageError
    from sfxcli.fxmatch.chain import parse_chain
    from training.data import read_manifest
    from training.fx import FxTrainConfig, default_manifest, train_fx

    config: FxTrainConfig = _preset("fx", preset, FxTrainConfig, {  # type: ignore[assignment]
        "chain": chain, "steps": steps, "vae_steps": vae_steps, "batch_size": batch_size,
        "learning_rate": learning_rate, "seed": seed})
    chain_parsed = parse_chain(config.chain)
    if init is not None:
        from dataclasses import replace

        from sfxcli.fxmatch.estimator import shipped_path

        config = replace(config, init=str(shipped_path(chain_parsed.name) if init == "shipped" else Path(init).resolve()))
    if config.steps < 1 or config.vae_steps < 0 or config.batch_size < 1 or config.learning_rate <= 0:
        raise UsageError("steps and batch size must be at least 1, vae steps at least 0, the learning rate positive")
    manifest = data if data is not None else default_manifest()
    examples = read_manifest(manifest)
    console = Console(stderr=True, highlight=False)
    with _progress(console) as bar:
        task = bar.add_task("loading", total=1.0)

        def report(message: str, fraction: float) -> None:
            if "not finite" in message:
                console.print(f"[yellow]{message}[/]")
            bar.update(task, description=message, completed=fraction)

        result = train_fx([e.sound for e in examples], config, run, resume=resume, report=report, stop_at=stop_at)
    stats = result.pair_stats
    summary = {"run": str(run.resolve()), "model": str(result.model_path.resolve()), "steps": result.steps,
               "final_loss": round(result.final_loss, 5), "rollbacks": result.rollbacks,
               "seconds": round(result.seconds, 1), "waited_for_pairs_seconds": round(result.waited_seconds, 1),
               "evaluation": {k: round(v, 4) for k, v in result.evaluation.items()},
               "pairs": stats.pairs, "rejected": {"silent_clip": stats.silent_clip,
                                                  "silent_effected": stats.silent_effected,
                                                  "not_the_same_sound": stats.destroyed}}
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    console.print(f"{stats.line()}; {result.steps} steps in {result.seconds:.0f} s, "
                  f"{100 * result.waited_seconds / max(result.seconds, 1e-9):.0f}% of it waiting for pairs")
    if result.evaluation:
        e = result.evaluation
        console.print(f"held-out pairs: parameter error {e['param_mae']:.3f}, STFT distance {e['stft']:.3f} "
                      f"(reference alone: {e['blind_param_mae']:.3f}, {e['blind_stft']:.3f}); loss curve in "
                      f"{run / 'loss.png'}")
    console.print(f"use it: sfx fx match REF --chain {config.chain} --model {run}")
    typer.echo(str(result.model_path))


@app.command("autoencoder")
def autoencoder_command(
    data: Path = typer.Option(..., "--data", help="A manifest CSV (label, sound; paths relative to it)."),
    preset: Optional[str] = typer.Option(None, "--preset", help="presets/training/autoencoder-NAME.toml: rvq, dac-rvq, "
                                         "vae (GPU sizes), rvq-debug, dac-rvq-debug, vae-debug (CPU sizes); "
                                         "sao-decoder with --model."),
    model: Optional[str] = typer.Option(None, "--model", help="Fine-tune this Stable Audio Open model's decoder "
                                        "instead (hub id, folder or 'debug'); encoder frozen."),
    run: Path = typer.Option(Path("runs/autoencoder"), "--run", help="Run folder; afterwards `sfx codec ... --model RUN`, "
                             "or `sfx gen --engine sao --model RUN` for a decoder fine-tune."),
    steps: Optional[int] = typer.Option(None, "--steps", help="Training steps (total, also when resuming)."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", help="Crops per step (per device)."),
    learning_rate: Optional[float] = typer.Option(None, "--learning-rate", help="Learning rate (keep it low)."),
    seconds: Optional[float] = typer.Option(None, "--seconds", help="Crop length in seconds."),
    curriculum_steps: Optional[int] = typer.Option(None, "--curriculum-steps", help="Coarse-to-fine curriculum over "
                                                   "this many steps (0: off)."),
    stage_loss: Optional[float] = typer.Option(None, "--stage-loss", help="Weight of the decoder-stage loss (0: off)."),
    discriminator: Optional[str] = typer.Option(None, "--discriminator", help="encodec, dac, oobleck or none."),
    ema: Optional[bool] = typer.Option(None, "--ema/--no-ema", help="Keep an EMA of the weights and export it."),
    demo_every: Optional[int] = typer.Option(None, "--demo-every", help="Write reconstruction demos every N steps (0: never)."),
    checkpoint_every: Optional[int] = typer.Option(None, "--checkpoint-every", help="Checkpoint every N steps."),
    precision: Optional[str] = typer.Option(None, "--precision", help="Lightning precision: 32-true, 16-mixed, bf16-mixed."),
    devices: Optional[str] = typer.Option(None, "--devices", help="Lightning devices: auto, a count, or a list such as 0,1."),
    num_nodes: Optional[int] = typer.Option(None, "--num-nodes", help="Machines (multi-node needs a launcher, see the README)."),
    strategy: Optional[str] = typer.Option(None, "--strategy", help="Lightning strategy: auto, ddp, fsdp."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Seed."),
    resume: bool = typer.Option(False, "--resume", help="Continue from the run folder's last checkpoint."),
    stop_at: Optional[int] = typer.Option(None, "--stop-at", help="Pause after this step (checkpoint saved; continue with --resume)."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON report on stdout."),
) -> None:
    """Train an audio codec or autoencoder (stable-audio-tools' autoencoder wrapper, Lightning), or fine-tune a
    Stable Audio Open model's decoder on your sounds."""
    from rich.console import Console

    from training.autoencoder import check_configs, load_preset, train_codec, train_decoder
    from training.lightning import check_run
    from training.data import read_manifest

    name = preset or ("sao-decoder" if model is not None else "rvq")
    architecture, config = load_preset(name, {
        "steps": steps, "batch_size": batch_size, "learning_rate": learning_rate, "seconds": seconds,
        "curriculum_steps": curriculum_steps, "stage_loss_weight": stage_loss, "discriminator": discriminator,
        "use_ema": ema, "demo_every": demo_every, "checkpoint_every": checkpoint_every, "precision": precision,
        "devices": devices, "num_nodes": num_nodes, "strategy": strategy, "seed": seed})
    console = Console(stderr=True, highlight=False)
    for warning in check_configs(architecture if model is None else None, config):
        console.print(f"[yellow]warning:[/] {warning}")
    examples = read_manifest(data)
    check_run(run, resume)
    if model is None:
        console.print(f"{architecture.bottleneck} codec: {architecture.sample_rate} Hz, {architecture.audio_channels} "
                      f"channel(s), {architecture.frame_rate_hz:g} frames/s, {architecture.bitrate_bps / 1000:g} kbps")
    with _progress(console) as bar:
        task = bar.add_task("loading", total=1.0)

        def report(message: str, fraction: float) -> None:
            if message.startswith("non-finite"):
                console.print(f"[yellow]{message}[/]")
            bar.update(task, description=message, completed=fraction)

        if model is None:
            result = train_codec(examples, architecture, config, run, resume=resume, report=report, stop_at=stop_at)
        else:
            result = train_decoder(examples, model, config, run, resume=resume, report=report, stop_at=stop_at)
    finished = result.steps >= config.steps
    summary = {"run": str(run.resolve()), "steps": result.steps, "finished": finished, "restarts": result.restarts,
               "seconds": round(result.seconds, 1), "held_out": {k: round(v, 4) for k, v in result.evaluation.items()}}
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    for note in result.notes[:20]:
        console.print(note)
    if result.evaluation:
        e = result.evaluation
        console.print(f"held-out crops: STFT distance {e['stft']:.3f}, SI-SDR {e['sisdr_db']:.1f} dB, "
                      f"mel distance {e['mel']:.3f}")
    console.print(f"{result.steps} steps in {result.seconds:.0f} s; demos in {run / 'demos'}, "
                  f"loss curves in {run / 'loss.png'}")
    if not finished:
        console.print(f"paused at step {result.steps}: continue with --resume")
    elif model is None:
        console.print(f"use it: sfx codec encode SOUND --model {run}")
    else:
        console.print(f"use it: sfx gen TAKE LABEL --engine sao --model {run}")
    typer.echo(str(run))
