"""Stereo: ambiences get a real image, library recordings keep theirs, one-shots stay mono, following is
measured on the mono sum."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import soundfile as sf

from sfxcli.analysis import loudness_correlation
from tests.conftest import REPO, bursts

HUM = str(REPO / "examples" / "hum.wav")


def _gen(run_cli, project: Path, label: str, *extra: str) -> list[Path]:  # type: ignore[no-untyped-def]
    code, out, err = run_cli("gen", HUM, label, "-p", str(project), "--seed", "4", *extra)
    assert code == 0, err
    return [Path(line) for line in out.splitlines()]


def test_an_ambience_recipe_is_stereo_with_decorrelated_sides_that_follow_the_take(run_cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    path = _gen(run_cli, project, "rain", "--engine", "embedded", "-n", "1")[0]
    audio, rate = sf.read(path)
    assert audio.ndim == 2 and audio.shape[1] == 2
    left, right = audio[:, 0], audio[:, 1]
    assert not np.allclose(left, right)
    assert abs(float(np.corrcoef(left, right)[0, 1])) < 0.9  # spread, not a copy
    take, take_rate = sf.read(HUM)
    assert loudness_correlation(take, audio.mean(axis=1), take_rate, rate) > 0.8
    sidecar = json.loads(path.with_suffix(".json").read_text())
    assert sidecar["output"]["channels"] == 2 and "--channels 2" in sidecar["reproduce"]


def test_one_shots_stay_mono_and_the_choice_can_be_forced(run_cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    mono = _gen(run_cli, project, "laser zap", "--engine", "embedded", "-n", "1")[0]
    assert sf.info(mono).channels == 1
    forced = _gen(run_cli, project, "rain", "--engine", "embedded", "-n", "1", "--channels", "1")[0]
    assert sf.info(forced).channels == 1
    wide = _gen(run_cli, project, "laser zap", "--engine", "embedded", "-n", "1", "--channels", "2")[0]
    assert sf.info(wide).channels == 2
    code, _, err = run_cli("gen", HUM, "laser", "-p", str(project), "--channels", "6")
    assert code == 2 and "channels must be 1..2" in err


def test_library_recordings_keep_their_stereo(run_cli, project: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    library = tmp_path / "lib"
    library.mkdir()
    knock = bursts([0.1, 0.5, 0.9], seconds=1.4, sr=48000)
    sf.write(library / "door knock left.wav", np.stack([knock, 0.1 * knock], axis=1), 48000)  # panned left
    sf.write(library / "glass smash.wav", bursts([0.2, 0.6], seconds=1.0, sr=48000, seed=3), 48000)
    paths = _gen(run_cli, project, "door knock left", "--engine", "library", "--library", str(library), "-n", "2")
    for path in paths:
        audio, _ = sf.read(path)
        assert audio.ndim == 2 and audio.shape[1] == 2
        left, right = np.sqrt(np.mean(audio[:, 0] ** 2)), np.sqrt(np.mean(audio[:, 1] ** 2))
        assert left > 5 * right  # the recording's image survives conforming
    mono = _gen(run_cli, project, "glass smash", "--engine", "library", "--library", str(library), "-n", "1")[0]
    assert sf.info(mono).channels == 1


def test_the_sao_engine_keeps_the_models_stereo(run_cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    path = _gen(run_cli, project, "wind", "--engine", "sao", "--model", "debug", "--steps", "2", "-n", "1")[0]
    assert sf.info(path).channels == 2
    mono = _gen(run_cli, project, "wind", "--engine", "sao", "--model", "debug", "--steps", "2", "-n", "1",
                "--channels", "1")[0]
    assert sf.info(mono).channels == 1
