"""The shape of the code: the runtime never needs training code, no import circles, one request table."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGES = ("sfxcli", "bridge", "training")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for package in PACKAGES for p in sorted((REPO / package).rglob("*.py"))}


def _imports(path: Path, known: set[str]) -> set[str]:
    """Every project module a file imports, at the top or inside a function (lazy imports count too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        for name in names:
            if name in known:
                found.add(name)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(path, known) - {name} for name, path in modules.items()}


def test_runtime_never_imports_training_code() -> None:
    graph = _graph()
    offenders = {name: sorted(t for t in targets if t.split(".")[0] == "training")
                 for name, targets in graph.items() if name.split(".")[0] in ("sfxcli", "bridge")}
    # the training commands are the one door: `sfx train` runs training code by design
    offenders.pop("sfxcli.commands.train", None)
    assert {k: v for k, v in offenders.items() if v} == {}


def test_importing_every_runtime_module_loads_nothing_from_training() -> None:
    names = [n for n in _modules() if n.split(".")[0] in ("sfxcli", "bridge") and not n.endswith("__main__")]
    code = ("import importlib, json, sys\n"
            f"for name in {names!r}:\n    importlib.import_module(name)\n"
            "print(json.dumps(sorted(m for m in sys.modules if m == 'training' or m.startswith('training.'))))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == []


def test_there_is_no_import_circle() -> None:
    graph = _graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 on the path, 2 done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                cycles.append(path[path.index(target):] + [target])
            elif target not in state:
                visit(target, path + [target])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_engines_never_import_the_engines_face() -> None:
    graph = _graph()
    inside = [n for n in graph if n.startswith("sfxcli.engines.")]
    assert [n for n in inside if "sfxcli.engines" in graph[n]] == []


# -- one request table --------------------------------------------------------------------------------

def _gen_command():  # type: ignore[no-untyped-def]
    import typer

    from sfxcli.app import app

    group = typer.main.get_command(app)
    return group, group.commands["gen"]  # type: ignore[attr-defined]


def test_cli_options_are_the_request_table() -> None:
    from sfxcli.request import options

    _, gen = _gen_command()
    cli = {param.name: param for param in gen.params}
    for row in options():
        if not row.flags:
            assert row.name not in cli
            continue
        assert sorted(cli[row.name].opts) == sorted(row.flags), row.name
        assert cli[row.name].help == row.help
    table = {row.name for row in options() if row.flags}
    assert set(cli) - table == {"imitation", "label", "as_json", "quiet"}  # arguments and presentation only


def test_osc_options_are_the_request_table() -> None:
    from bridge.protocol import parse
    from sfxcli.request import options, osc_options

    keys = osc_options()
    assert set(keys) == {row.osc for row in options() if row.osc}
    sample = {"variations": 3, "candidates": 6, "seed": 9, "subfolder": "takes", "preset": "creak", "fx": "grit",
              "fx_like": "/refs/temp-track.wav", "engine": "library", "steps": 4, "cfg": 2.5, "sketch": "none", "sketch_noise": 1.5,
              "library": str(REPO / "sfxcli" / "data" / "library"), "library_layers": 2, "library_pitch": "shift",
              "format": "flac", "sample_rate": 44100, "peak": -3.0, "lufs": -20.0, "seconds": 2.5,
              "creator": "JD", "source": "Haunted House", "designer": "Jo Doe", "position": 12.5,
              "created": "2026-12-03T09:12:00", "channels": 2, "project": "/tmp/Film", "offset": 0.5,
              "length": 1.5, "reverse": True}
    assert set(sample) == set(keys)  # every OSC option is exercised below
    arguments: list[object] = ["id", "/take.wav", "door creak"]
    for key, value in sample.items():
        arguments += [key, value]
    request = parse("/sfx/generate", arguments)
    assert request.options == sample


def test_reproduce_command_parses_back_to_the_same_request(tmp_path: Path) -> None:
    """The sidecar's command, read by `sfx gen` itself, asks for exactly what the run did."""
    from sfxcli.request import build, from_cli, options, reproduce_args

    library = tmp_path / "sounds"
    library.mkdir()
    request = build(tmp_path / "take.wav", "door creak", dict(
        variations=3, seed=5, preset="creak", fx=("grit", "room-small"), engine="library", library=library,
        library_layers=2, library_pitch="shift", format="flac", sample_rate=96000, lufs=-18.0, seconds=2.5,
        fx_like=tmp_path / "ref.wav", subfolder="takes", creator="JD", source="Haunted House", designer="Jo Doe", position=3.5,
        created="2026-12-03T09:12:00"))
    args = reproduce_args(request, "library", {"variations": 1, "library": library.resolve()})
    group, gen = _gen_command()
    context = gen.make_context("gen", args[2:], parent=group.make_context("sfx", ["gen"]))
    params = dict(context.params)
    again = from_cli(Path(params.pop("imitation")), params.pop("label"), params)
    for row in options():
        if row.replay == "never":
            continue
        expected = 1 if row.name == "variations" else getattr(request, row.name)
        if row.name == "library":
            expected = library.resolve()
        assert getattr(again, row.name) == expected, row.name
    # options of other engines stay out of the command
    assert "--steps" not in args and "--model" not in args


@pytest.mark.parametrize("row_name", ["variations", "sample_rate", "seed", "sketch_noise", "library_layers"])
def test_every_range_is_checked_the_same_way_from_both_doors(row_name: str, tmp_path: Path) -> None:
    """Out of range on the command line and over OSC: the same message from the same check."""
    from sfxcli.errors import UsageError
    from sfxcli.request import BY_NAME, build, from_osc

    row = BY_NAME[row_name]
    assert row.maximum is not None
    too_big = row.maximum + (1 if row.kind is int else 0.5)
    value = int(too_big) if row.kind is int else too_big
    with pytest.raises(UsageError) as cli_error:
        build(tmp_path / "take.wav", "door creak", {row.name: value})
    with pytest.raises(UsageError) as osc_error:
        from_osc(tmp_path / "take.wav", "door creak", {row.osc: value}, {})
    assert cli_error.value.message == osc_error.value.message and row.label in cli_error.value.message
