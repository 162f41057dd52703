"""``sfx fx``: learn an FX chain's settings from a reference sound and keep them as a preset."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(help="Match FX chains to reference sounds.", no_args_is_help=True)


def default_name(reference: Path) -> str:
    """``match-<reference name>``, reduced to what a preset name may hold."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", reference.stem).strip("-_")[:40] or "reference"
    return f"match-{stem}"


@app.command("match")
def match_command(
    reference: Path = typer.Argument(..., help="The sound whose processing to match (wav, flac, ogg, mp3, aiff)."),
    chain: str = typer.Option("eq,compressor,reverb", "--chain", help="Chain elements in order (see `sfx fx elements`)."),
    dry: Optional[Path] = typer.Option(None, "--dry", help="The same sound unprocessed, when you have it: a closer match."),
    search: bool = typer.Option(False, "--search", help="Search (differential evolution) instead of estimating: "
                                "slower, needs --dry."),
    budget: int = typer.Option(3000, "--budget", min=50, max=100000, help="--search: chain renders at most."),
    polish: int = typer.Option(100, "--polish", min=0, max=10000, help="With --dry: chain renders that polish the "
                               "estimator's answer by a coordinate search (0: none; about 8 ms each)."),
    model: Optional[Path] = typer.Option(None, "--model", help="An estimator from `sfx train fx` (run folder or "
                                         ".safetensors) instead of the shipped one."),
    name: Optional[str] = typer.Option(None, "--name", help="Preset name (default: match-<reference name>)."),
    force: bool = typer.Option(False, "--force", help="Replace a preset of that name."),
    save: bool = typer.Option(True, "--save/--no-save", help="Write the preset (default) or only print the settings."),
    seed: int = typer.Option(0, "--seed", min=0, help="--search: its seed."),
    as_json: bool = typer.Option(False, "--json", help="Print the settings and the preset path as JSON on stdout."),
) -> None:
    """Write an FX preset whose settings make a dry sound resemble REFERENCE's processing, and print them.

    Use it afterwards with `sfx gen TAKE LABEL --fx NAME`, or in one go with `sfx gen ... --fx-like REFERENCE`.
    """
    from rich.console import Console

    from sfxcli.fxmatch.chain import parse_chain
    from sfxcli.fxmatch.estimator import estimator_for, load_estimator, shipped_path
    from sfxcli.fxmatch.match import match, preset_name, read_reference, write_preset
    from sfxcli.fxmatch.search import SearchConfig
    from sfxcli.presets import user_presets_root

    parsed = parse_chain(chain)
    preset = preset_name(name) if name else default_name(reference)
    if search and dry is None:
        from sfxcli.errors import UsageError

        raise UsageError("--search needs the dry sound the reference was made from: pass --dry DRY.wav",
                         "without --dry, leave out --search: the estimator matches a reference alone")
    ref_audio = read_reference(reference)  # bad input is refused before any model loads
    dry_audio = read_reference(dry, "dry sound") if dry is not None else None
    estimator = None
    if model is not None or not search:
        estimator = estimator_for(parsed, model)
    elif shipped_path(parsed.name).is_file():  # the search starts from the shipped estimator's answer
        estimator = load_estimator(shipped_path(parsed.name))
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    with console.status("searching" if search else "estimating"):
        result = match(parsed, ref_audio, dry_audio, "search" if search else "estimator", estimator,
                       SearchConfig(budget=budget, seed=seed), polish=polish)
    path = None
    if save:
        path = write_preset(result, preset, user_presets_root(), f"matched to {reference.name} ({result.method})",
                            overwrite=force)
    if as_json:
        typer.echo(json.dumps({"chain": parsed.name, "method": result.method, "seconds": round(result.seconds, 3),
                               "distance": None if result.distance is None else round(result.distance, 4),
                               "settings": {el: {k: round(v, 4) for k, v in vals.items()} for el, vals in result.values()},
                               "preset": preset if save else None, "path": str(path) if path else None}, indent=2))
        return
    console.print(f"{result.method}: {result.seconds:.2f} s" + (f", STFT distance to the reference "
                                                                 f"{result.distance:.3f}" if result.distance is not None else ""))
    for element, values in result.values():
        console.print(f"  {element}: " + ", ".join(f"{k} {v:.3g}" for k, v in values.items()))
    if path is not None:
        console.print(f"use it: sfx gen TAKE LABEL --fx {preset}")
        typer.echo(str(path))


@app.command("elements")
def elements() -> None:
    """The chain elements `sfx fx match --chain` knows, with what each sets."""
    from sfxcli.fxmatch.chain import ELEMENTS
    from sfxcli.fxmatch.estimator import shipped_chains

    for element in ELEMENTS.values():
        ranges = ", ".join(f"{p.name} {p.low:g}..{p.high:g}" for p in element.params)
        typer.echo(f"{element.name}: {element.description} ({ranges})")
    typer.echo(f"shipped estimators: {'; '.join(shipped_chains()) or 'none'}")
