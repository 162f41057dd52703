"""Every kind of bad imitation gets one clear line and its own exit code; good ones load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sfxcli import errors
from sfxcli.audio import read_imitation
from tests.conftest import hum


def _assert_clean_error(result: tuple[int, str, str], expected: type[errors.SfxError], project: Path) -> None:
    code, out, err = result
    assert code == expected.exit_code, err
    assert out == ""
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines[0].startswith("error: ") and len(lines) <= 2, err
    assert not any(project.rglob("*.wav")), "nothing may be written for bad input"


def _wav(path: Path, data: np.ndarray, sr: int = 16000, subtype: str = "PCM_16") -> Path:
    sf.write(path, data, sr, subtype=subtype)
    return path


BAD_CASES = {
    "missing": (lambda d: d / "nope.wav", errors.MissingFileError),
    "directory": (lambda d: d, errors.NotAFileError),
    "not_audio": (lambda d: (d / "notes.wav").write_text("this is a text file, not audio") and d / "notes.wav",
                  errors.NotAudioError),
    "empty_file": (lambda d: (d / "empty.wav").write_bytes(b"") or d / "empty.wav", errors.EmptyAudioError),
    "zero_frames": (lambda d: _wav(d / "zero.wav", np.zeros(0)), errors.EmptyAudioError),
    "silent": (lambda d: _wav(d / "silent.wav", np.zeros(16000)), errors.SilentAudioError),
    "very_quiet": (lambda d: _wav(d / "quiet.wav", hum() * 0.0005), errors.SilentAudioError),
    "too_short": (lambda d: _wav(d / "short.wav", hum(seconds=0.05)), errors.TooShortError),
    "too_long": (lambda d: _wav(d / "long.wav", hum(seconds=61.0, sr=8000), sr=8000), errors.TooLongError),
    "nan": (lambda d: _wav(d / "nan.wav", np.where(np.arange(16000) == 500, np.nan, hum(1.0)), subtype="FLOAT"),
            errors.NonFiniteAudioError),
    "inf": (lambda d: _wav(d / "inf.wav", np.where(np.arange(16000) == 500, np.inf, hum(1.0)), subtype="FLOAT"),
            errors.NonFiniteAudioError),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_input_gets_one_line_and_its_exit_code(case: str, tmp_path: Path, project: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    make, expected = BAD_CASES[case]
    folder = tmp_path / "inputs"
    folder.mkdir()
    path = make(folder)
    _assert_clean_error(run_cli("gen", str(path), "door creak", "--project", str(project)), expected, project)


@pytest.mark.parametrize("fmt", ["wav", "flac", "ogg", "mp3", "aiff"])
def test_truncated_files_are_refused(fmt: str, tmp_path: Path, project: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    whole = tmp_path / f"whole.{fmt}"
    sf.write(whole, hum(2.0, sr=44100), 44100, format=fmt.upper() if fmt != "aiff" else "AIFF")
    data = whole.read_bytes()
    cut = tmp_path / f"cut.{fmt}"
    cut.write_bytes(data[: len(data) // 3])
    _assert_clean_error(run_cli("gen", str(cut), "door creak", "--project", str(project)), errors.CorruptAudioError, project)


def test_exit_codes_are_distinct() -> None:
    codes = [cls.exit_code for _, cls in BAD_CASES.values()] + [errors.CorruptAudioError.exit_code]
    assert len(set(codes)) == len({cls for _, cls in BAD_CASES.values()}) + 1


def test_max_seconds_is_configurable(tmp_path: Path, project: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    path = _wav(tmp_path / "three.wav", hum(3.0))
    _assert_clean_error(run_cli("gen", str(path), "creak", "--project", str(project), "--max-seconds", "2"),
                        errors.TooLongError, project)
    code, out, err = run_cli("gen", str(path), "creak", "--project", str(project), "--max-seconds", "5", "-n", "1")
    assert code == 0, err


def test_debug_shows_the_traceback(tmp_path: Path, project: Path) -> None:
    from sfxcli.app import main

    with pytest.raises(errors.MissingFileError):
        main(["gen", str(tmp_path / "nope.wav"), "creak", "--project", str(project), "--debug"])


@pytest.mark.parametrize(
    "fmt,sr,channels",
    [("wav", 44100, 2), ("flac", 96000, 1), ("ogg", 22050, 2), ("mp3", 48000, 1), ("aiff", 11025, 6), ("wav", 8000, 1)],
)
def test_formats_rates_and_channels_load(fmt: str, sr: int, channels: int, tmp_path: Path) -> None:
    mono = hum(1.0, sr=sr)
    data = np.stack([mono * (0.5 + 0.1 * c) for c in range(channels)], axis=1) if channels > 1 else mono
    path = tmp_path / f"in.{fmt}"
    sf.write(path, data, sr, format="AIFF" if fmt == "aiff" else fmt.upper())
    imitation = read_imitation(path)
    assert imitation.sample_rate == sr
    assert imitation.channels == channels
    assert imitation.samples.ndim == 1
    assert abs(imitation.duration_seconds - 1.0) < 0.06  # mp3 adds encoder padding
    assert np.max(np.abs(imitation.samples)) > 0.1


def test_real_imitations_all_load() -> None:
    from tests.conftest import IMITATIONS

    files = sorted(IMITATIONS.glob("imitations/*.wav")) + sorted(IMITATIONS.glob("unlabeled_logged_pairs/*imitation.wav"))
    assert len(files) >= 20
    for path in files:
        imitation = read_imitation(path)
        assert imitation.duration_seconds > 1.0
        assert len(imitation.sha256) == 64
