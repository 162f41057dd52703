"""Label matching, the library engine's conforming, and the auto engine choice."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sfxcli.library.lookup import WELL_COVERED, lookup
from sfxcli.library.store import DEFAULT_LIBRARY, open_library
from sfxcli.pipeline import generate
from sfxcli.request import GenerateRequest
from tests.conftest import IMITATIONS, bursts


@pytest.fixture(scope="module")
def shipped():  # type: ignore[no-untyped-def]
    return open_library()


def test_shipped_library_is_small_credited_and_has_vectors(shipped) -> None:  # type: ignore[no-untyped-def]
    from sfxcli.library.curate import SIZE_BUDGET_BYTES
    from sfxcli.library.debian import ALLOWED

    size = sum(p.stat().st_size for p in DEFAULT_LIBRARY.iterdir())
    assert size <= SIZE_BUDGET_BYTES
    assert len(shipped.entries) >= 1500 and shipped.vectors is not None
    licences = {e.licence for e in shipped.entries}
    assert licences <= ALLOWED
    credits = (DEFAULT_LIBRARY / "CREDITS.md").read_text()
    assert all(e.path in credits for e in shipped.entries)


@pytest.mark.parametrize("label,expected", [("door creak", "door creak"), ("cat meow", "cat meow"),
                                            ("thunder", "thunder"), ("cow", "cow moo"), ("heavy rain", "heavy rain")])
def test_obvious_label_picks_the_obvious_file(shipped, label: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    best = lookup(label, shipped.entries, shipped.vectors)[0]
    assert best.entry.label.lower() == expected and best.score >= WELL_COVERED
    assert "shares" in best.why


def test_meaning_finds_what_words_miss(shipped) -> None:  # type: ignore[no-untyped-def]
    best = lookup("kitty", shipped.entries, shipped.vectors)[0]
    assert best.entry.label == "cat meow" and "cosine" in best.why


def _gen(tmp_path: Path, imitation: Path, label: str, **kw):  # type: ignore[no-untyped-def]
    return generate(GenerateRequest(imitation=imitation, label=label, project=tmp_path, **kw))


@pytest.fixture()
def knocks(tmp_path: Path) -> Path:
    path = tmp_path / "knocks.wav"
    sf.write(path, bursts([0.2, 0.8, 1.5, 2.1], seconds=2.6), 16000)
    return path


def test_auto_uses_the_library_when_it_knows_the_label(tmp_path: Path, knocks: Path) -> None:
    result = _gen(tmp_path, knocks, "door creak", variations=2, seed=3)
    assert result.engine == "library"
    meta = json.loads(result.results[0].sidecar.read_text())
    assert meta["engine"] == "library" and "engine library" in meta["engine_choice"]
    recording = meta["parameters"]["recordings"][0]
    assert recording["label"] and recording["why"] and recording["licence"]
    other = _gen(tmp_path, knocks, "flibbertigibbet", variations=1, seed=3)
    assert other.engine == "embedded"


def test_library_output_is_deterministic_and_variations_differ(tmp_path: Path, knocks: Path) -> None:
    same = dict(variations=3, seed=11, engine="library", source="Demo", created="2026-12-03T09:12:00")
    a = _gen(tmp_path / "a", knocks, "explosion", **same) if (tmp_path / "a").mkdir() is None else None
    b = _gen(tmp_path / "b", knocks, "explosion", **same) if (tmp_path / "b").mkdir() is None else None
    assert a and b
    for x, y in zip(a.results, b.results):
        assert x.path.read_bytes() == y.path.read_bytes()
    audio = [sf.read(r.path)[0] for r in a.results]
    assert not np.allclose(audio[0], audio[1])


def test_library_follows_the_real_imitations(tmp_path: Path) -> None:
    files = sorted(IMITATIONS.glob("imitations/*.wav")) + sorted(IMITATIONS.glob("unlabeled_logged_pairs/*imitation.wav"))
    labels = ["door creak", "explosion", "cow", "rain", "laser", "thunder", "bird", "wind"]
    rs, f1s = [], []
    for i, path in enumerate(files):
        result = _gen(tmp_path, path, labels[i % len(labels)], variations=1, seed=1, engine="library")
        rs.append(result.results[0].score.loudness_r)
        f1s.append(result.results[0].score.onset_f1)
    assert np.median(rs) >= 0.9, rs
    assert np.median(f1s) >= 0.8, f1s


def test_your_own_library_with_vectors(tmp_path: Path, knocks: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    lib = tmp_path / "mylib" / "doors"
    lib.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in ("DOORWood_heavy oak door slam_ME_Loc.wav", "kitten_purr.wav", "rain_on_roof.wav"):
        sf.write(lib / name, 0.3 * rng.standard_normal(24000) * np.exp(-np.arange(24000) / 8000), 24000)
    (lib / "broken.wav").write_bytes(b"RIFF....WAVEfmt nonsense")
    code, out, err = run_cli("library", "index", str(tmp_path / "mylib"), "--json")
    report = json.loads(out)
    assert code == 0 and report["recordings"] == 3 and report["skipped"][0]["path"].endswith("broken.wav")
    assert report["vectors"] and Path(report["vectors"]).is_file()
    code, out, _ = run_cli("library", "search", "cat", "--library", str(tmp_path / "mylib"), "--json")
    assert json.loads(out)[0]["label"] == "kitten purr"  # by meaning: no shared word
    code, out, err = run_cli("gen", str(knocks), "door slam", "--library", str(tmp_path / "mylib"), "--project",
                             str(tmp_path), "-n", "1", "--json")
    assert code == 0, err
    files = json.loads(out)
    assert files["engine"] == "library"
    meta = json.loads(Path(files["files"][0]["sidecar"]).read_text())
    assert meta["parameters"]["recordings"][0]["path"].endswith("DOORWood_heavy oak door slam_ME_Loc.wav")
    assert "--library" in meta["reproduce"]


def test_layering_and_pitch_shift_mode(tmp_path: Path) -> None:
    from tests.conftest import hum

    glide = tmp_path / "glide.wav"
    sf.write(glide, hum(2.0, f0=150, f1=300), 16000)
    layered = _gen(tmp_path, glide, "cow", variations=1, seed=2, engine="library", library_layers=2)
    meta = json.loads(layered.results[0].sidecar.read_text())
    assert len(meta["parameters"]["recordings"]) == 2
    shifted = _gen(tmp_path, glide, "cow", variations=1, seed=2, engine="library", library_pitch="shift")
    meta = json.loads(shifted.results[0].sidecar.read_text())
    assert meta["parameters"]["pitch_mode"] == "shift" and "--library-pitch shift" in meta["reproduce"]
    # an octave glide in the imitation: the recording is pitched along it
    assert meta["parameters"]["recordings"][0]["pitch_follow_median_semitones"][0] != 0.0
    audio, _ = sf.read(shifted.results[0].path)
    assert np.all(np.isfinite(audio)) and np.sqrt(np.mean(audio**2)) > 0.01


def test_extended_recordings_join_without_clicks_or_dropouts() -> None:
    from sfxcli.engines.library import extend

    sr = 48000
    rng = np.random.default_rng(0)
    texture = np.convolve(rng.standard_normal(int(0.3 * sr)), np.ones(8) / 8, mode="same")  # a steady rustle
    out = extend(texture, texture[sr // 10 :], 2 * sr, sr)
    assert len(out) == 2 * sr
    assert np.max(np.abs(np.diff(out))) <= np.max(np.abs(np.diff(texture))) * 1.5  # no click at the joins
    level = 10 * np.log10(np.convolve(out**2, np.ones(2400) / 2400, mode="valid"))
    reference = 10 * np.log10(np.mean(texture**2))
    assert np.all(np.abs(level - reference) < 3.0)  # equal-power joins keep the level


def test_bridge_generates_with_the_library(tmp_path: Path, knocks: Path) -> None:
    from tests.test_bridge import Client, _start, _stop

    project = tmp_path / "p"
    project.mkdir()
    proc, port = _start(project, "--engine", "library")
    try:
        client = Client(port)
        client.send("/sfx/generate", "lib1", str(knocks), "explosion", "variations", 1)
        address, args = client.answer("lib1", ("/sfx/done", "/sfx/error"), 60)
        assert address == "/sfx/done", args
        meta = json.loads(Path(args[1]).with_suffix(".json").read_text())
        assert meta["engine"] == "library"
    finally:
        _stop(proc)


def test_library_results_reproduce_bit_for_bit(tmp_path: Path, knocks: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    import shlex

    first = _gen(tmp_path, knocks, "thunder", variations=2, engine="library", library_pitch="shift").results[1]
    command = json.loads(first.sidecar.read_text())["reproduce"]
    code, out, err = run_cli(*shlex.split(command)[1:], "--project", str(tmp_path), "--subfolder", "again", "-q")
    assert code == 0, err
    assert Path(out.strip()).read_bytes() == first.path.read_bytes()


def test_auto_falls_back_to_synthesis_when_the_index_cannot_be_written(tmp_path: Path, knocks: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from sfxcli.errors import LibraryError
    from sfxcli.library import store

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("SFX_CACHE", str(blocker))
    monkeypatch.setattr(store, "_OPEN", {})
    result = _gen(tmp_path, knocks, "door creak", variations=1, seed=1)
    assert result.engine == "embedded"
    assert "unavailable" in json.loads(result.results[0].sidecar.read_text())["engine_choice"]
    with pytest.raises(LibraryError, match="cannot open the library index"):
        _gen(tmp_path, knocks, "door creak", variations=1, seed=1, engine="library")


def test_recorded_attacks_land_whole_on_the_takes_rises(tmp_path: Path) -> None:
    """A recording of two knocks in room tone, on a take of bursts: each placed knock starts within a frame of
    its burst, with its whole rise after the time the engine reports (nothing of it cut, quiet before it)."""
    from sfxcli.analysis import analyse, controls_from_curves, frame_loudness_db
    from sfxcli.engines.library import LibraryEngine
    from sfxcli.library.index import Entry
    from sfxcli.library.lookup import Hit
    from sfxcli.presets import load_recipe

    sr = 48000
    rng = np.random.default_rng(2)
    knock = 1e-4 * rng.standard_normal(sr)
    for t in (0.3047, 0.6023):  # between analysis frames, as real attacks are
        start = int(t * sr)
        knock[start : start + sr // 8] += 0.8 * rng.standard_normal(sr // 8) * np.exp(-np.arange(sr // 8) / (0.01 * sr))
    sf.write(tmp_path / "knock.wav", knock, sr)
    engine = LibraryEngine(tmp_path, [Hit(Entry("knock.wav", "knock", "", "", 1.0, sr, 1), 1.0, "test")])
    onsets = [0.2, 0.8, 1.5, 2.1]
    controls = controls_from_curves(analyse(bursts(onsets, seconds=2.6), 16000))
    render = engine.render(controls, load_recipe("whoosh"), 1, sr, 2.9)
    assert len(render.attacks_seconds) == len(onsets)
    levels = frame_loudness_db(render.audio, sr, 1000)
    for placed, onset in zip(render.attacks_seconds, onsets, strict=True):
        assert abs(placed - onset) <= 0.012
        at = int(round(placed * 1000))
        assert levels[at : at + 3].max() > levels[at - 6 : at - 1].max() + 20


def test_short_sounds_in_the_take_get_a_recording() -> None:
    """A 20 ms click between two bursts is an event of its own: left out, it would be silence in the result
    where the take sounds, which no envelope follow can raise."""
    from sfxcli.analysis import analyse, controls_from_curves
    from sfxcli.engines.library import events

    take = bursts([0.2, 1.2], seconds=1.8)
    take[int(0.7 * 16000) : int(0.72 * 16000)] += 0.5 * np.random.default_rng(0).standard_normal(320)
    found = events(controls_from_curves(analyse(take, 16000)))
    assert any(0.68 <= start <= 0.72 for start, _, _ in found), found
