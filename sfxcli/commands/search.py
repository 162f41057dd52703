"""``sfx search``: find the sounds in a folder that match an imitation (and a label) best."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer


def search(
    imitation: Path = typer.Argument(..., help="A vocal imitation (or any sound) to search with."),
    label: Optional[str] = typer.Argument(None, help='Optional words for the sound, for example "door creak".'),
    library: Optional[Path] = typer.Option(None, "--library", help="The folder to search (default: the library setting, else the built-in library)."),
    top: int = typer.Option(10, "--top", "-k", help="How many results."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON with scores instead of paths."),
) -> None:
    """Rank a folder's sounds by how well they match the imitation (and label): best first, one path per line."""
    from rich.console import Console
    from rich.progress import Progress

    from sfxcli.audio import read_imitation
    from sfxcli.errors import LibraryError, UsageError
    from sfxcli.library.sounds import library_features
    from sfxcli.library.store import open_library
    from sfxcli.match import embedding, load, match_scores, sound_features
    from sfxcli.settings import resolve

    library = resolve("library", library).value
    if top < 1:
        raise UsageError(f"--top must be at least 1, got {top}")
    if label is not None and not label.strip():
        raise UsageError("the label is empty; leave it out to search by the imitation alone")
    if library is not None and not library.expanduser().is_dir():
        raise LibraryError(f"no library folder at {library}")
    take = read_imitation(imitation)
    model = load()
    console = Console(stderr=True)
    with Progress(transient=True, console=console) as bar:
        task = bar.add_task("indexing", total=None)
        lib = open_library(library, lambda done, total: bar.update(task, completed=done, total=total))
        bar.update(task, description="reading new sounds", completed=0, total=None)
        features, failed = library_features(lib, lambda x, sr: sound_features(model, x, sr), model.encoders["sound"],
                                            lambda done, total: bar.update(task, completed=done, total=total))
        embeddings = None
        if embedding.enabled():
            bar.update(task, description="embedding new sounds", completed=0, total=None)
            embeddings, unread = library_features(lib, embedding.library_encoder(), embedding.NAME,
                                                  lambda done, total: bar.update(task, completed=done, total=total))
            failed = failed + [p for p in unread if p not in failed]
    for path in failed[:5]:
        console.print(f"[yellow]skipped[/] {path} (unreadable)")
    if not lib.entries:
        raise LibraryError(f"{lib.root} holds no audio files")
    scores = match_scores(model, label, (take.samples, take.sample_rate), features, embeddings)
    order = [i for i in scores.argsort()[::-1] if lib.entries[i].path not in failed][:top]
    root = lib.root.resolve()
    if as_json:
        typer.echo(json.dumps({"imitation": str(imitation), "label": label, "library": str(root),
                               "results": [{"path": str(root / lib.entries[i].path), "label": lib.entries[i].label,
                                            "score": round(float(scores[i]), 4)} for i in order]}, indent=2))
        return
    for i in order:
        typer.echo(str(root / lib.entries[i].path))
