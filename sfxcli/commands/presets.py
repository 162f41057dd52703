"""``sfx presets list|show``: the recipes and FX chains in ``presets/``."""

from __future__ import annotations

import json

import typer

app = typer.Typer(help="List and inspect recipes and FX chains.", no_args_is_help=True)


@app.command("list")
def list_presets(as_json: bool = typer.Option(False, "--json", help="Print JSON on stdout.")) -> None:
    """List every recipe (with its family) and every FX chain."""
    from sfxcli.presets import all_recipes, fx_names, load_fx

    recipes = all_recipes()
    chains = [load_fx(name) for name in fx_names()]
    if as_json:
        typer.echo(json.dumps({
            "recipes": [{"name": r.name, "family": r.family, "catid": r.catid, "description": r.description,
                         "fx": list(r.fx)} for r in recipes],
            "fx": [{"name": c.name, "description": c.description, "effects": [e.type for e in c.effects]} for c in chains],
        }, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title="Recipes", title_justify="left")
    for column in ("name", "family", "UCS", "description"):
        table.add_column(column)
    for r in recipes:
        table.add_row(r.name, r.family, r.catid, r.description)
    console.print(table)
    fx_table = Table(title="FX chains", title_justify="left")
    for column in ("name", "effects", "description"):
        fx_table.add_column(column)
    for c in chains:
        fx_table.add_row(c.name, " > ".join(e.type for e in c.effects), c.description)
    console.print(fx_table)


@app.command("show")
def show(name: str = typer.Argument(..., help="A recipe or FX chain name."),
         as_json: bool = typer.Option(False, "--json", help="Print the resolved preset as JSON.")) -> None:
    """Show a recipe (resolved through `extends`) or an FX chain."""
    from dataclasses import asdict
    from pathlib import Path

    from sfxcli.errors import PresetError
    from sfxcli.presets import fx_names, load_fx, load_recipe, recipe_names

    if name in recipe_names():
        recipe = load_recipe(name)
        data = asdict(recipe)
        data["layers"] = [asdict(layer) for layer in recipe.layers]
        data["fx_chains"] = {c: [asdict(e) for e in load_fx(c).effects] for c in recipe.fx}
        source = Path(recipe.source_file)
    elif name in fx_names():
        chain = load_fx(name)
        data = asdict(chain)
        source = None
    else:
        raise PresetError(f"no recipe or FX chain named {name!r}")
    if as_json:
        typer.echo(json.dumps(data, indent=2, default=str))
        return
    if source is not None:
        typer.echo(f"# {source}")
        typer.echo(source.read_text())
        typer.echo("# resolved:")
    typer.echo(json.dumps(data, indent=2, default=str))
