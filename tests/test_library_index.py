"""Indexing a folder of recordings: nested, labelled from several sources, incremental, corrupt-tolerant."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sfxcli.errors import LibraryError
from sfxcli.library.index import update_index, words_of


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SFX_CACHE", str(tmp_path / "cache"))


def _write(path: Path, seconds: float = 0.5) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * 16000)) / 16000
    sf.write(path, 0.3 * np.sin(2 * np.pi * 300 * t), 16000)
    return path


def _library(root: Path) -> Path:
    _write(root / "doors" / "wood" / "DOORCreak_old barn door_JD_Barn.wav")
    _write(root / "animals" / "CatMeowLoud_02.wav")
    _write(root / "misc" / "x1.wav")
    (root / "misc" / "x1.json").write_text(json.dumps({"label": "glass bottle clink", "tags": ["glass", "bar"]}))
    _write(root / "foley" / "take3.wav")
    (root / "foley" / "manifest.csv").write_text("file,label,license\ntake3.wav,footsteps on gravel,CC0\n")
    (root / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    (root / "notes.txt").write_text("not audio")
    return root


def test_labels_come_from_sidecars_manifests_ucs_names_and_folders(tmp_path: Path) -> None:
    entries, report = update_index(_library(tmp_path / "lib"))
    by_path = {e.path: e for e in entries}
    assert by_path["doors/wood/DOORCreak_old barn door_JD_Barn.wav"].catid == "DOORCreak"
    assert by_path["doors/wood/DOORCreak_old barn door_JD_Barn.wav"].label == "old barn door"
    assert by_path["animals/CatMeowLoud_02.wav"].label == "cat meow loud"
    assert by_path["misc/x1.wav"].label == "glass bottle clink" and "glass" in by_path["misc/x1.wav"].tags
    assert by_path["foley/take3.wav"].label == "footsteps on gravel" and by_path["foley/take3.wav"].licence == "CC0"
    assert "doors wood" in by_path["doors/wood/DOORCreak_old barn door_JD_Barn.wav"].tags
    assert report.added == 5 and [p for p, _ in report.skipped] == ["broken.wav"]


def test_index_updates_incrementally(tmp_path: Path) -> None:
    root = _library(tmp_path / "lib")
    update_index(root)
    _, again = update_index(root)
    assert (again.added, again.updated, again.removed, again.unchanged) == (0, 0, 0, 5)
    _write(root / "new" / "whoosh_fast.wav")
    os.remove(root / "animals" / "CatMeowLoud_02.wav")
    changed = root / "misc" / "x1.wav"
    _write(changed, seconds=1.0)
    entries, report = update_index(root)
    assert (report.added, report.updated, report.removed) == (1, 1, 1)
    assert {e.path for e in entries} >= {"new/whoosh_fast.wav", "misc/x1.wav"}
    assert next(e for e in entries if e.path == "misc/x1.wav").duration_seconds == pytest.approx(1.0)


def test_relabelling_a_file_updates_it(tmp_path: Path) -> None:
    root = _library(tmp_path / "lib")
    update_index(root)
    (root / "misc" / "x1.json").write_text(json.dumps({"label": "wine glass toast"}))
    entries, report = update_index(root)
    assert report.updated == 1
    assert next(e for e in entries if e.path == "misc/x1.wav").label == "wine glass toast"


def test_missing_library_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LibraryError, match="library folder not found"):
        update_index(tmp_path / "nope")


def test_words_of_file_names() -> None:
    assert words_of("DoorSlam_heavy-02") == "door slam heavy"
    assert words_of("rain_on_tin_roof_take3") == "rain on tin roof"
