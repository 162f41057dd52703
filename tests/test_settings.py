"""Settings a sound designer sets once: flag > environment > config file > built-in, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import REPO

HUM = str(REPO / "examples" / "hum.wav")


@pytest.fixture()
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "config.toml"
    path.write_text("")
    monkeypatch.setenv("SFX_CONFIG", str(path))
    for name in ("SFX_ENGINE", "SFX_SUBFOLDER", "SFX_FORMAT", "SFX_SAMPLE_RATE", "SFX_LIBRARY"):
        monkeypatch.delenv(name, raising=False)
    return path


def test_precedence_flag_environment_config_built_in(config: Path, monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path) -> None:
    from sfxcli import settings
    from sfxcli.request import build

    take = tmp_path / "take.wav"
    assert build(take, "creak", {}).sample_rate == 48000 and settings.value("sample_rate").source == "built-in"
    config.write_text('sample_rate = 96000\nformat = "flac"\nsubfolder = "generated"\n')
    request = build(take, "creak", {})
    assert (request.sample_rate, request.format, request.subfolder) == (96000, "flac", "generated")
    assert settings.value("sample_rate").source == f"config file {config} line 1"
    monkeypatch.setenv("SFX_SAMPLE_RATE", "44100")
    assert build(take, "creak", {}).sample_rate == 44100
    assert settings.value("sample_rate").source == "environment variable SFX_SAMPLE_RATE"
    assert build(take, "creak", {"sample_rate": 32000}).sample_rate == 32000


def test_config_file_sets_what_sfx_gen_writes(config: Path, run_cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    config.write_text('engine = "embedded"\nformat = "flac"\nsample_rate = 44100\nsubfolder = "generated"\n')
    code, out, err = run_cli("gen", HUM, "door creak", "-n", "1", "--seed", "3", "-p", str(project))
    assert code == 0, err
    written = Path(out.strip())
    assert written.parent == project / "generated" and written.suffix == ".flac"
    sidecar = json.loads(written.with_suffix(".json").read_text())
    assert sidecar["engine"] == "embedded" and sidecar["output"]["sample_rate"] == 44100
    # the reproduce command spells the configured values out, so another machine's config cannot change it
    assert "--engine embedded" in sidecar["reproduce"] and "--format flac" in sidecar["reproduce"]
    assert "--sample-rate 44100" in sidecar["reproduce"]
    code, out, _ = run_cli("gen", HUM, "door creak", "-n", "1", "-p", str(project), "--format", "wav")
    assert code == 0 and out.strip().endswith(".wav")  # the flag wins


@pytest.mark.parametrize("text, needle", [
    ('engine = "embedded"\n\ncolour = "red"\n', "line 3: unknown key 'colour'"),
    ('sample_rate = "fast"\n', "line 1: sample_rate must be a whole number, got 'fast'"),
    ('format = "wav"\nengine = "stable"\n', "line 2: engine must be one of auto, embedded, library, sao, got 'stable'"),
    ('sample_rate = 1000\n', "line 1: sample rate must be 8000..192000 Hz, got 1000"),
    ('engine = embedded\n', "(at line 1, column 10)"),
])
def test_a_broken_config_file_is_one_line_naming_file_line_and_key(config: Path, run_cli, project: Path,  # type: ignore[no-untyped-def]
                                                                  text: str, needle: str) -> None:
    config.write_text(text)
    code, out, err = run_cli("gen", HUM, "door creak", "-n", "1", "-p", str(project))
    assert code == 21 and out == "" and "Traceback" not in err
    first = err.splitlines()[0]
    assert first.startswith(f"error: config file {config}") and needle in first, first
    assert not (project / "sfx").exists()


def test_bad_environment_values_name_the_variable(config: Path, run_cli, project: Path,  # type: ignore[no-untyped-def]
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SFX_ENGINE", "turbo")
    code, _, err = run_cli("gen", HUM, "door creak", "-p", str(project))
    assert code == 21 and err.startswith("error: environment variable SFX_ENGINE: engine must be one of")
    monkeypatch.setenv("SFX_CONFIG", str(config.parent / "missing.toml"))
    monkeypatch.delenv("SFX_ENGINE")
    code, _, err = run_cli("gen", HUM, "door creak", "-p", str(project))
    assert code == 21 and "SFX_CONFIG names" in err and "does not exist" in err


def test_doctor_shows_each_setting_and_where_it_comes_from(config: Path, run_cli,  # type: ignore[no-untyped-def]
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    config.write_text('engine = "library"\n')
    monkeypatch.setenv("SFX_FORMAT", "ogg")
    code, out, err = run_cli("doctor", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["config_file"] == str(config)
    assert report["settings"]["engine"] == {"value": "library", "from": f"config file {config} line 1"}
    assert report["settings"]["format"] == {"value": "ogg", "from": "environment variable SFX_FORMAT"}
    assert report["settings"]["sample_rate"] == {"value": "48000", "from": "built-in"}
    assert report["settings"]["library"]["value"] == "the built-in library"


def test_serve_takes_its_engine_from_the_settings_too(config: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    config.write_text('engine = "warp"\n')
    code, _, err = run_cli("serve", "--port", "0")
    assert code == 21 and "engine must be one of" in err and f"config file {config} line 1" in err
