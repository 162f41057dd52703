"""``sfx gen``: imitation + label -> finished files in the project folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer


def gen(
    imitation: Path = typer.Argument(..., help="The vocal imitation: wav, flac, ogg, mp3 or aiff."),
    label: str = typer.Argument(..., help='What it should become, for example "door creak".'),
    variations: int = typer.Option(4, "-n", "--variations", help="How many files to write."),
    candidates: Optional[int] = typer.Option(None, "--candidates", help="Render this many and keep the best -n (default: -n)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Make the output bit-identical across runs."),
    project: Path = typer.Option(Path("."), "--project", "-p", help="The DAW project folder (must exist)."),
    subfolder: str = typer.Option("sfx", "--subfolder", help="Folder inside the project for the results."),
    preset: Optional[str] = typer.Option(None, "--preset", help="Use this recipe instead of choosing one from the label."),
    fx: Optional[str] = typer.Option(None, "--fx", help="Comma-separated FX chains instead of the recipe's own; 'none' for dry."),
    engine: str = typer.Option("auto", "--engine", help="auto (library when it knows the label, else synthesis), library, embedded, or sao (Stable Audio Open)."),
    model: Optional[str] = typer.Option(None, "--model", help="sao: hub id, local model folder, or 'debug' (default: $SFX_SAO_MODEL or stabilityai/stable-audio-open-1.0)."),
    adapter: Optional[Path] = typer.Option(None, "--adapter", help="sao: a controls adapter (.safetensors) from `sfx train controls`."),
    steps: Optional[int] = typer.Option(None, "--steps", help="sao: sampling steps (default: the recipe's, else the model's)."),
    cfg: Optional[float] = typer.Option(None, "--cfg", help="sao: classifier-free guidance scale."),
    sketch: Optional[str] = typer.Option(None, "--sketch", help="sao: start from the 'engine' render (library or synthesis), the 'imitation' itself, or 'none'."),
    sketch_noise: Optional[float] = typer.Option(None, "--sketch-noise", help="sao: how much noise covers the sketch (sigma; 0.5 keeps it close, 10 keeps little)."),
    library: Optional[Path] = typer.Option(None, "--library", help="A folder of your own recordings for the library engine (default: the built-in one)."),
    library_layers: int = typer.Option(1, "--library-layers", help="Layer this many matching recordings (1 or 2)."),
    library_pitch: str = typer.Option("varispeed", "--library-pitch", help="varispeed (sampler-style, fast) or shift (pitch only, keeps timing)."),
    fmt: str = typer.Option("wav", "--format", "-f", help="wav (24-bit), flac (24-bit), ogg or mp3."),
    sample_rate: int = typer.Option(48000, "--sample-rate", "-r", help="Output sample rate in Hz."),
    peak: Optional[float] = typer.Option(None, "--peak", help="Normalise the true peak to this dBFS (default -1)."),
    lufs: Optional[float] = typer.Option(None, "--lufs", help="Normalise loudness to this LUFS instead (true peak held at -1 dBFS)."),
    seconds: Optional[float] = typer.Option(None, "--seconds", "-s", help="Spread the performance over this many seconds (default: the imitation's length)."),
    max_seconds: float = typer.Option(60.0, "--max-seconds", help="Refuse imitations longer than this."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON report on stdout instead of paths."),
    plot: bool = typer.Option(False, "--plot", help="Save a PNG comparing the imitation's curves with each result's."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress on stderr."),
) -> None:
    """Generate finished sound effects that follow a vocal imitation."""
    from sfxcli.pipeline import GenerateRequest, fx_option, generate, level_config

    level = level_config(peak, lufs)
    chains = fx_option(fx)
    request = GenerateRequest(
        imitation=imitation, label=label, project=project, subfolder=subfolder, variations=variations,
        candidates=candidates, seed=seed, preset=preset, fx=chains, engine=engine, sample_rate=sample_rate,
        library=library, library_layers=library_layers, library_pitch=library_pitch,
        format=fmt.lower(), max_seconds=max_seconds, level=level, plot=plot, seconds=seconds,
        model=model, adapter=adapter, steps=steps, cfg_scale=cfg, sketch=sketch, sketch_noise=sketch_noise,
    )

    from rich.console import Console

    console = Console(stderr=True, quiet=quiet, highlight=False)
    announced: set[str] = set()

    # model engines report every sampling step: a transient status line on a terminal, nothing in logs
    status = console.status("", spinner="dots") if console.is_terminal and not quiet else None

    def progress(message: str, fraction: float) -> None:
        if message.startswith(("rendered", "sampling")):
            if status is not None and message.startswith("sampling"):
                status.update(message)
                status.start()
            return
        if message not in announced:
            announced.add(message)
            console.print(message)

    try:
        result = generate(request, progress)
    finally:
        if status is not None:
            status.stop()
    if result.fallback:
        console.print("[yellow]note:[/] the label did not match a recipe; results use the general-purpose recipe")
    if as_json:
        report = {
            "engine": result.engine,
            "recipe": result.recipe,
            "catid": result.catid,
            "label_match": result.reason,
            "fallback": result.fallback,
            "files": [
                {"path": str(r.path.resolve()), "sidecar": str(r.sidecar.resolve()), "seed": r.seed, **r.score.as_dict()}
                for r in result.results
            ],
            "plot": str(result.plot.resolve()) if result.plot else None,
        }
        typer.echo(json.dumps(report, indent=2))
    else:
        for r in result.results:
            typer.echo(str(r.path))
        if result.plot:
            console.print(f"plot: {result.plot}")
