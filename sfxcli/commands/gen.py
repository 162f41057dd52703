"""``sfx gen``: imitation + label -> finished files in the project folder.

Its options are the request table's (``sfxcli.request``): the signature
Typer reads is built from it, so a new request option appears here, over
OSC and in the reproduce command at once.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

import typer

from sfxcli.request import cli_parameters


def _gen(imitation: Path, label: str, as_json: bool = False, quiet: bool = False, **options: Any) -> None:
    """Generate finished sound effects that follow a vocal imitation."""
    from rich.console import Console

    from sfxcli.pipeline import generate
    from sfxcli.request import from_cli

    request = from_cli(imitation, label, options)
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


def _signature() -> inspect.Signature:
    keyword = inspect.Parameter.KEYWORD_ONLY
    positional = inspect.Parameter.POSITIONAL_OR_KEYWORD
    return inspect.Signature([
        inspect.Parameter("imitation", positional, annotation=Path,
                          default=typer.Argument(..., help="The vocal imitation: wav, flac, ogg, mp3 or aiff.")),
        inspect.Parameter("label", positional, annotation=str,
                          default=typer.Argument(..., help='What it should become, for example "door creak".')),
        *cli_parameters(),
        inspect.Parameter("as_json", keyword, annotation=bool,
                          default=typer.Option(False, "--json", help="Print a JSON report on stdout instead of paths.")),
        inspect.Parameter("quiet", keyword, annotation=bool,
                          default=typer.Option(False, "--quiet", "-q", help="No progress on stderr.")),
    ])


def gen(*args: Any, **kwargs: Any) -> None:
    """Generate finished sound effects that follow a vocal imitation."""
    _gen(*args, **kwargs)


gen.__signature__ = _signature()  # type: ignore[attr-defined]
