"""``sfx library index|search``: your own recordings for the library engine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(help="Index a folder of recordings and search it by label.", no_args_is_help=True)


@app.command("index")
def index(folder: Path = typer.Argument(..., help="A folder of audio files (searched recursively)."),
          vectors: bool = typer.Option(True, "--vectors/--no-vectors", help="Compute sentence vectors (needs torch)."),
          as_json: bool = typer.Option(False, "--json", help="Print a JSON report.")) -> None:
    """Build or update the index of a library (only new and changed files are read)."""
    from rich.progress import Progress

    from sfxcli.library.store import embed_library, open_library

    with Progress(transient=True, console=__import__("rich.console").console.Console(stderr=True)) as bar:
        task = bar.add_task("indexing", total=None)
        library = open_library(folder, lambda done, total: bar.update(task, completed=done, total=total), refresh=True)
    vector_file = None
    if vectors and (library.report.changed or library.vectors is None) and library.entries:
        from sfxcli.library.embed import load_encoder

        vector_file = embed_library(library, load_encoder().encode)
    report = library.report
    if as_json:
        typer.echo(json.dumps({"folder": str(folder), "recordings": len(library.entries), "added": report.added,
                               "updated": report.updated, "removed": report.removed, "unchanged": report.unchanged,
                               "skipped": [{"path": p, "why": w} for p, w in report.skipped],
                               "vectors": str(vector_file) if vector_file else None}, indent=2))
        return
    typer.echo(f"{len(library.entries)} recordings: {report.added} new, {report.updated} changed, "
               f"{report.removed} removed, {report.unchanged} unchanged")
    for path, why in report.skipped:
        typer.echo(f"skipped {path}: {why}", err=True)


@app.command("search")
def search(label: str = typer.Argument(..., help='What you are looking for, for example "door creak".'),
           folder: Optional[Path] = typer.Option(None, "--library", help="Library folder (default: the library setting, else the built-in one)."),
           limit: int = typer.Option(10, "-n", help="How many results."),
           as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show the recordings that best match a label, and why."""
    from sfxcli.library.lookup import WELL_COVERED, lookup
    from sfxcli.library.store import open_library
    from sfxcli.settings import resolve

    library = open_library(resolve("library", folder).value)
    found = lookup(label, library.entries, library.vectors, limit)
    if as_json:
        typer.echo(json.dumps([{"path": str(library.root / c.entry.path), "label": c.entry.label, "score": round(c.score, 3),
                                "why": c.why} for c in found], indent=2))
        return
    for c in found:
        typer.echo(f"{c.score:.2f}  {library.root / c.entry.path}  ({c.why})")
    if not found or found[0].score < WELL_COVERED:
        typer.echo(f"the library does not know '{label}' well (best {found[0].score if found else 0:.2f} < "
                   f"{WELL_COVERED}); `sfx gen --engine auto` would synthesise it", err=True)
