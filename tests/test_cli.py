"""The CLI as a user runs it: a real subprocess, fast help, doctor, README examples, plots."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from sfxcli.library.store import DEFAULT_LIBRARY
from tests.conftest import REPO


def _sfx(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "sfxcli", *args], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=120)


def test_real_subprocess_writes_paths_on_stdout_progress_on_stderr(tmp_path: Path) -> None:
    result = _sfx("gen", str(REPO / "examples" / "hum.wav"), "door creak", "--project", str(tmp_path), "-n", "2")
    assert result.returncode == 0, result.stderr
    paths = result.stdout.splitlines()
    assert len(paths) == 2 and all(Path(p).is_file() for p in paths)
    assert "creak" in result.stderr


def test_real_subprocess_error_is_one_line_and_exit_code(tmp_path: Path) -> None:
    result = _sfx("gen", str(tmp_path / "missing.wav"), "door creak", "--project", str(tmp_path))
    assert result.returncode == 11
    assert result.stdout == ""
    assert result.stderr.startswith("error: imitation not found") and "Traceback" not in result.stderr


def test_help_does_not_import_heavy_modules() -> None:
    code = (
        "import sys; from sfxcli.app import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('torch', 'matplotlib', 'scipy', 'pedalboard', 'transformers') if m in sys.modules]\n"
        "print('HEAVY', heavy)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "HEAVY []" in result.stdout, result.stdout + result.stderr
    assert "gen" in result.stdout and "presets" in result.stdout and "doctor" in result.stdout


def test_gen_never_imports_torch(tmp_path: Path) -> None:
    """Label meaning comes from the shipped word table, so generating stays fast."""
    code = (
        "import sys; from pathlib import Path; from sfxcli.pipeline import generate; from sfxcli.request import GenerateRequest\n"
        f"r = generate(GenerateRequest(imitation=Path({str(REPO / 'examples' / 'hum.wav')!r}), label='door creak',"
        f" project=Path({str(tmp_path)!r}), variations=1))\n"
        "print('ENGINE', r.engine, 'TORCH', 'torch' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "ENGINE library TORCH False" in result.stdout, result.stdout + result.stderr


def test_doctor_reports_engines_and_devices(run_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run_cli("doctor", "--json")
    report = json.loads(out)
    assert code == 0
    assert report["engines"]["embedded"]["usable"] is True
    shipped = len((DEFAULT_LIBRARY / "manifest.csv").read_text(encoding="utf-8").splitlines()) - 1
    assert report["engines"]["library"]["usable"] is True
    assert f"{shipped} built-in" in report["engines"]["library"]["why"]
    assert report["devices"][0]["device"] == "cpu"
    assert report["presets"]["ok"] is True
    assert report["packages"]["pedalboard"]


def test_plot_is_written_beside_the_outputs(run_cli, hum_file: Path, project: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli("gen", str(hum_file), "whoosh", "--project", str(project), "-n", "2", "--plot", "--json")
    assert code == 0, err
    plot = Path(json.loads(out)["plot"])
    assert plot.parent == project / "sfx" and plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_unknown_label_says_which_recipe_it_chose(run_cli, hum_file: Path, project: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli("gen", str(hum_file), "flibbertigibbet", "--project", str(project), "-n", "1")
    assert code == 0
    assert "texture" in err and "flibbertigibbet" in err
    assert Path(out.strip()).name.startswith("DSGNMisc_flibbertigibbet_sfx_project_001")


def _readme_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    blocks = re.findall(r"```(?:sh|bash|console)?\n(.*?)```", text, flags=re.S)
    return [line.strip() for block in blocks[:2] for line in block.splitlines() if line.strip()]


def test_readme_opens_with_two_setup_commands() -> None:
    commands = _readme_commands()
    assert len(commands) == 2
    assert "sfx gen examples/" in commands[0]
    assert commands[1] == "bash .ci/run"
    ci = (REPO / ".ci" / "run").read_text()
    install = ".venv/bin/pip install --no-deps stable-audio-tools==0.0.19 descript-audiotools==0.7.2 descript-audio-codec==1.0.0 aisfx==0.1.2"  # its pins clash: see pyproject.toml
    install_and_test = f"python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && {install} && .venv/bin/python -m pytest"
    assert install_and_test in ci and install_and_test in (REPO / "README.md").read_text()
    assert f"pip install -e . && {install} && .venv/bin/sfx gen" in commands[0]


def test_readme_gen_example_runs(tmp_path: Path) -> None:
    first = _readme_commands()[0]
    gen = first[first.index("sfx gen") :]
    argv = shlex.split(gen)[1:] + ["--project", str(tmp_path)]
    result = _sfx(*argv, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 4
