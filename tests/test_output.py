"""Results land inside the project, atomically, never overwriting, with a complete sidecar."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sfxcli.errors import OutputError, UsageError


def _gen(run_cli, hum_file: Path, project: Path, label: str = "door creak", *extra: str):  # type: ignore[no-untyped-def]
    return run_cli("gen", str(hum_file), label, "--project", str(project), *extra)


def test_default_output_is_named_after_ucs_48k_24bit(run_cli, hum_file: Path, project: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, err = _gen(run_cli, hum_file, project, "door creak", "--seed", "1")
    assert code == 0, err
    paths = [Path(line) for line in out.splitlines()]
    assert [p.name for p in paths] == [f"DOORCreak_door creak_sfx_project_{i:03d}.wav" for i in range(1, 5)]
    for path in paths:
        assert path.parent == project / "sfx"
        info = sf.info(path)
        assert (info.samplerate, info.subtype, info.channels) == (48000, "PCM_24", 1)
    assert "matched recipe 'creak'" in err


def test_sidecar_has_what_reproduces_the_file(run_cli, hum_file: Path, project: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = _gen(run_cli, hum_file, project, "door creak", "-n", "2", "--seed", "11")
    assert code == 0
    first = Path(out.splitlines()[0])
    meta = json.loads(first.with_suffix(".json").read_text())
    for key in ("imitation", "label", "recipe", "preset", "seed", "engine", "sfx_version", "parameters", "reproduce"):
        assert key in meta
    assert len(meta["imitation"]["sha256"]) == 64
    assert meta["parameters"]["recipe"]["layers"]
    # the recorded command reproduces the file bit for bit
    import shlex

    argv = shlex.split(meta["reproduce"])[1:] + ["--project", str(project), "--subfolder", "again"]
    code, out2, err = run_cli(*argv)
    assert code == 0, err
    assert Path(out2.strip()).read_bytes() == first.read_bytes()


def test_seed_gives_identical_bytes_and_no_seed_records_seeds(run_cli, hum_file: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    _, out_a, _ = _gen(run_cli, hum_file, a, "whoosh", "--seed", "42")
    _, out_b, _ = _gen(run_cli, hum_file, b, "whoosh", "--seed", "42")
    for pa, pb in zip(out_a.splitlines(), out_b.splitlines()):  # the same samples; the metadata dates them
        assert np.array_equal(sf.read(pa)[0], sf.read(pb)[0])
    pinned = ("--seed", "42", "--source", "Demo", "--created", "2026-12-03T09:12:00")
    _, out_a, _ = _gen(run_cli, hum_file, a, "whoosh", *pinned)
    _, out_b, _ = _gen(run_cli, hum_file, b, "whoosh", *pinned)
    for pa, pb in zip(out_a.splitlines(), out_b.splitlines()):  # with the same date and SourceID, the same bytes
        assert Path(pa).name == Path(pb).name and Path(pa).read_bytes() == Path(pb).read_bytes()
    code, out, _ = _gen(run_cli, hum_file, a, "whoosh", "-n", "2", "--json")
    report = json.loads(out)
    seeds = [f["seed"] for f in report["files"]]
    assert len(set(seeds)) == 2
    assert all(json.loads(Path(f["sidecar"]).read_text())["seed"] == f["seed"] for f in report["files"])


def test_never_overwrites(run_cli, hum_file: Path, project: Path) -> None:  # type: ignore[no-untyped-def]
    _, first, _ = _gen(run_cli, hum_file, project, "door creak", "-n", "2", "--seed", "1")
    before = {p: p.read_bytes() for p in map(Path, first.splitlines())}
    _, second, _ = _gen(run_cli, hum_file, project, "door creak", "-n", "2", "--seed", "1")
    assert [Path(p).name[-7:] for p in second.splitlines()] == ["003.wav", "004.wav"]
    assert all(p.read_bytes() == data for p, data in before.items())


@pytest.mark.parametrize(
    "label", ["../../escape", "/etc/passwd", "..", "a/../../b", "nul\x01byte", "x" * 500, "🔥 fire 🔥", "CON", "a:b*c?d"]
)
def test_hostile_labels_stay_inside_the_project(label: str, run_cli, hum_file: Path, project: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, err = _gen(run_cli, hum_file, project, label, "-n", "1")
    assert code == 0, err
    path = Path(out.strip())
    assert path.resolve().parent == (project / "sfx").resolve()
    assert len(path.name.encode()) < 120
    assert path.name.isascii()
    outside = [p for p in project.parent.rglob("*") if p.is_file() and project not in p.parents and p.suffix in {".wav", ".json"}]
    assert [p for p in outside if p.name != "hum.wav"] == []


def test_nul_in_label_is_refused(run_cli, hum_file: Path, project: Path) -> None:  # type: ignore[no-untyped-def]
    code, _, err = _gen(run_cli, hum_file, project, "door\x00creak")
    assert code == UsageError.exit_code and err.startswith("error: label")


@pytest.mark.parametrize("subfolder", ["../out", "/tmp/abs", "a/../../b"])
def test_subfolder_cannot_escape(subfolder: str, run_cli, hum_file: Path, project: Path) -> None:  # type: ignore[no-untyped-def]
    code, _, err = _gen(run_cli, hum_file, project, "creak", "--subfolder", subfolder)
    assert code == UsageError.exit_code and "Traceback" not in err


def test_missing_project_is_a_clear_error(run_cli, hum_file: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, _, err = _gen(run_cli, hum_file, tmp_path / "nowhere", "creak")
    assert code == OutputError.exit_code and "project folder does not exist" in err


def test_failed_encode_leaves_nothing_behind(run_cli, hum_file: Path, project: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import sfxcli.output as output

    real = output._write_all

    def broken(fd: int, data: bytes) -> None:
        real(fd, data[: len(data) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(output, "_write_all", broken)
    code, _, err = _gen(run_cli, hum_file, project, "creak")
    assert code == OutputError.exit_code and "is full; the file was not written" in err
    assert list((project / "sfx").iterdir()) == []


def test_failed_request_leaves_the_project_untouched(run_cli, project: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, _, _ = run_cli("gen", str(tmp_path / "missing.wav"), "creak", "--project", str(project))
    assert code != 0 and list(project.iterdir()) == []


@pytest.mark.parametrize("fmt,rate,subtype", [("flac", 44100, "PCM_24"), ("ogg", 48000, "VORBIS"), ("mp3", 44100, "MPEG_LAYER_III"), ("wav", 96000, "PCM_24")])
def test_formats_and_rates(fmt: str, rate: int, subtype: str, run_cli, hum_file: Path, project: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, err = _gen(run_cli, hum_file, project, "whoosh", "-n", "1", "--format", fmt, "--sample-rate", str(rate))
    assert code == 0, err
    path = Path(out.strip())
    info = sf.info(path)
    assert path.suffix == f".{fmt}" and info.samplerate == rate and info.subtype == subtype


def test_bad_options_are_one_line_errors(run_cli, hum_file: Path, project: Path) -> None:  # type: ignore[no-untyped-def]
    for extra in (["-n", "0"], ["--format", "m4a"], ["--sample-rate", "100"], ["--preset", "nope"],
                  ["--peak", "-1", "--lufs", "-16"], ["--fx", "nope"], ["--engine", "nope"], ["--candidates", "1", "-n", "3"]):
        code, out, err = _gen(run_cli, hum_file, project, "creak", *extra)
        assert code != 0 and out == "" and err.startswith("error: ") and "Traceback" not in err, (extra, err)
    assert not (project / "sfx").exists() or not any((project / "sfx").iterdir())


def test_seconds_stretches_the_performance(run_cli, hum_file: Path, project: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import json as json_

    from tests.conftest import bursts

    knocks = tmp_path / "knocks.wav"
    sf.write(knocks, bursts([0.2, 0.9, 1.5], seconds=2.0), 16000)
    code, out, err = _gen(run_cli, knocks, project, "impact", "-n", "1", "--seconds", "5", "--json")
    assert code == 0, err
    report = json_.loads(out)["files"][0]
    info = sf.info(report["path"])
    assert 5.0 <= info.duration <= 5.0 + 0.4  # the recipe's tail may follow
    assert report["loudness_r"] > 0.8 and report["onset_f1"] == 1.0
    meta = json_.loads(Path(report["sidecar"]).read_text())
    assert "--seconds 5" in meta["reproduce"] and meta["output"]["stretched_to_seconds"] == 5.0
    code, _, err = _gen(run_cli, hum_file, project, "impact", "--seconds", "0")
    assert code == UsageError.exit_code and "seconds" in err
