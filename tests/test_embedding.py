"""The likeness: the pretrained aisfx audio embedding in numpy, its shipped data, and how the match uses it."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sfxcli.match import embedding
from tests.conftest import IMITATIONS, SHARED, bursts, hum


def test_spectrogram_is_the_one_the_package_computes() -> None:
    import librosa

    rng = np.random.default_rng(3)
    x = 0.3 * rng.standard_normal(44100 * 2) * np.linspace(0, 1, 44100 * 2)
    ours = embedding.spectrogram(x, 44100)
    y = (x / np.abs(x).max()).astype(np.float32)
    theirs = librosa.feature.melspectrogram(y=y, sr=44100, n_mels=96, norm=1.0, fmin=0.0, fmax=22050.0, htk=True,
                                            power=2.0, hop_length=1024, win_length=2048, n_fft=2048,
                                            pad_mode="constant")
    theirs = (np.log10(theirs * 10000.0 + 1.0) / embedding.SPEC_MAX).T
    assert ours.shape == theirs.shape == (len(x) // 1024 + 1, 96)
    np.testing.assert_allclose(ours, theirs, rtol=1e-3, atol=1e-4)


def test_numpy_network_is_the_aisfx_network() -> None:
    """The shipped weights are the wheel's (batch norm folded in, float16), and the numpy twin gives its answers."""
    import torch

    shipped = embedding._data()
    for key, value in embedding.convert().items():
        np.testing.assert_array_equal(shipped[key], value)
    blocks = np.random.default_rng(0).random((3, embedding.BLOCK, embedding.MELS)).astype(np.float32)
    with torch.inference_mode():
        theirs = embedding.reference_network().get_embedding(torch.from_numpy(blocks)).numpy()
    ours = embedding.load_embedder().forward(blocks)
    assert ours.shape == (3, embedding.DIM)
    assert np.abs(ours - theirs).max() < 2e-3 * np.abs(theirs).max()
    through_torch = embedding.load_embedder().forward(blocks, through_torch=True)
    np.testing.assert_allclose(through_torch, ours, rtol=1e-4, atol=1e-4 * np.abs(ours).max())


def test_a_library_switches_to_torch_only_after_its_first_new_files(monkeypatch: pytest.MonkeyPatch) -> None:
    routes: list[bool] = []
    forward = embedding.Embedder.forward
    monkeypatch.setattr(embedding.Embedder, "forward",
                        lambda self, batch, through_torch=False: routes.append(through_torch) or forward(self, batch, through_torch))
    encode = embedding.library_encoder()
    short = bursts([0.1], 0.5)
    first = [encode(short, 16000) for _ in range(embedding.TORCH_AFTER)]
    assert routes == [False] * embedding.TORCH_AFTER
    later = encode(short, 16000)
    assert routes[-1] is True
    assert embedding.library_encoder()(short, 16000) is not None and routes[-1] is False  # nothing left switched on
    np.testing.assert_allclose(later, first[0], rtol=1e-4, atol=1e-4 * np.abs(first[0]).max())


def test_blocks_cover_short_and_long_sounds() -> None:
    short = embedding.blocks(np.ones((30, 96), np.float32))
    assert short.shape == (1, 100, 96) and short[0, 30:].sum() == 0  # padded with silence
    assert embedding.blocks(np.ones((260, 96), np.float32)).shape == (4, 100, 96)  # starts 0, 50, 100, 150
    ramp = np.repeat(np.arange(2000, dtype=np.float32)[:, None], 96, axis=1)  # 46 s: blocks spread over all of it
    long = embedding.blocks(ramp)
    assert long.shape == (embedding.MAX_BLOCKS, 100, 96) and long[0, 0, 0] == 0 and long[-1, -1, 0] == 1999
    silent = embedding.embed(np.zeros(8000), 16000)
    assert silent.shape == (512,) and np.all(np.isfinite(silent))


def test_a_library_of_copies_standardises_without_dividing_by_zero() -> None:
    copies = np.tile(embedding.embed(hum(1.0, 16000), 16000), (60, 1))
    stats = embedding.statistics(copies)
    rows = embedding.standardise(copies, stats)
    assert np.all(np.isfinite(rows)) and np.all(np.isfinite(stats[1])) and stats[1].min() > 0


def test_shipped_library_embeddings_cover_the_builtin_library() -> None:
    from sfxcli.audio import read_sound
    from sfxcli.library.sounds import features_path
    from sfxcli.library.store import DEFAULT_LIBRARY, open_library

    library = open_library(DEFAULT_LIBRARY)
    path = features_path(DEFAULT_LIBRARY, embedding.NAME)
    assert path.parent == DEFAULT_LIBRARY
    with np.load(path) as data:
        paths, vectors = list(data["paths"]), data["vectors"]
    assert paths == [e.path for e in library.entries] and vectors.shape == (len(paths), 512)
    for row in (0, len(paths) // 2, len(paths) - 1):
        again = embedding.embed(*read_sound(DEFAULT_LIBRARY / paths[row]))
        np.testing.assert_allclose(again, vectors[row], rtol=2e-3, atol=2e-3)
    assert int(embedding._data()["recordings"]) == len(paths)
    mean, spread = embedding.statistics(vectors.astype(np.float64))  # the shipped statistics are these rows'
    np.testing.assert_allclose(embedding._data()["mean"], mean, rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(embedding._data()["std"], spread, rtol=1e-2, atol=1e-3)


def _sfx_sounds(count: int) -> list[Path]:
    rows = list(csv.DictReader(open(SHARED / "sfx" / "manifest.csv")))
    return [SHARED / "sfx" / r["path"] for r in rows[:: max(1, len(rows) // count)][:count]]


def test_likeness_hears_a_sound_through_a_rough_copy() -> None:
    """A sound pitched up, band-limited and buried in noise (roughly what a voice does to it) is found among 30:
    mean reciprocal rank above 0.5, where chance is 0.13."""
    from scipy.signal import butter, sosfilt

    from sfxcli.analysis import resample
    from sfxcli.audio import read_sound

    sounds = [read_sound(p) for p in _sfx_sounds(30)]
    originals = embedding.standardise(np.stack([embedding.embed(x, sr) for x, sr in sounds]))
    rng = np.random.default_rng(1)
    reciprocal = []
    for i, (x, sr) in enumerate(sounds[:10]):
        rough = resample(x, sr, int(sr / 2 ** (3 / 12)))  # played back at sr: 3 semitones up
        rough = sosfilt(butter(4, min(4000, 0.45 * sr), fs=sr, output="sos"), rough)
        rough = rough + rng.standard_normal(len(rough)) * np.std(rough) * 10 ** (-15 / 20)
        likeness = originals @ embedding.standardise(embedding.embed(rough, sr))
        reciprocal.append(1 / (1 + np.sum(likeness > likeness[i])))
    chance = np.mean(1 / np.arange(1, 31))
    assert np.mean(reciprocal) > 0.5 > 3 * chance, reciprocal


def test_likeness_lifts_the_real_imitations() -> None:
    """On the real imitation -> reference pairs, sfx search's scoring ranks the true reference better with the
    likeness than without it (bench/contrastive.py prints the figures and the out-of-fold choice)."""
    import sys

    from sfxcli.audio import read_imitation, read_sound
    from sfxcli.match import load, match_scores, sound_features

    saved = list(sys.path)
    try:
        from bench.contrastive import queries  # the bench's pairs; it puts bench/ on the path (bench/bridge.py!)
    finally:
        sys.path[:] = saved
    items, candidates, _ = queries()
    model = load()
    sounds = [read_sound(p) for p in candidates]
    features = np.stack([sound_features(model, x, sr) for x, sr in sounds])
    # through torch, as sfx search embeds a large library: the same network (test above), faster
    embeddings = np.stack([embedding.embed(x, sr, through_torch=True) for x, sr in sounds])
    reciprocal: dict[str, list[float]] = {"without": [], "with": []}
    for path, _, target in items:
        take = read_imitation(path)
        audio = (take.samples, take.sample_rate)
        for name, rows in (("without", None), ("with", embeddings)):
            scores = match_scores(model, None, audio, features, rows)
            reciprocal[name].append(1 / (1 + np.sum(scores > scores[target])))
    chance = float(np.mean(1 / np.arange(1, len(candidates) + 1)))
    alone, together = np.mean(reciprocal["without"]), np.mean(reciprocal["with"])
    assert together > alone + 0.05 and together > 3 * chance, (alone, together)


def test_the_setting_turns_the_likeness_off(monkeypatch: pytest.MonkeyPatch) -> None:
    from sfxcli.match import LIKENESS_WEIGHT, likeness_scores, take_likeness

    take = (hum(1.0, 16000), 16000)
    likeness = take_likeness(take)
    assert likeness is not None and likeness.shape == (512,)
    rows = np.stack([embedding.embed(bursts([0.2], 1.0), 16000), embedding.embed(*take)])
    expected = LIKENESS_WEIGHT * (embedding.standardise(rows) @ likeness)
    np.testing.assert_allclose(likeness_scores(likeness, rows), expected, rtol=1e-6)
    assert expected[1] == pytest.approx(LIKENESS_WEIGHT, abs=1e-4)  # the take itself: cosine 1
    monkeypatch.setenv("SFX_AUDIO_EMBEDDING", "none")
    assert take_likeness(take) is None and likeness_scores(None, rows) == 0.0


def test_search_uses_the_likeness(run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    library = tmp_path / "library"
    library.mkdir()
    for source in _sfx_sounds(6):
        shutil.copy(source, library / source.name)
    take = next((IMITATIONS / "imitations").glob("*Whip*.wav"))

    def scores() -> dict[str, float]:
        code, out, err = run_cli("search", str(take), "--library", str(library), "--json", "--top", "6")
        assert code == 0, err
        return {Path(r["path"]).name: r["score"] for r in json.loads(out)["results"]}

    with_likeness = scores()
    monkeypatch.setenv("SFX_AUDIO_EMBEDDING", "none")
    without = scores()
    assert with_likeness.keys() == without.keys() and len(without) == 6
    assert max(abs(with_likeness[k] - without[k]) for k in without) > 0.05
    monkeypatch.setenv("SFX_AUDIO_EMBEDDING", "clap")
    code, out, err = run_cli("search", str(take), "--library", str(library))
    assert code == 21 and out == "" and "Traceback" not in err
    assert err.strip().splitlines()[0] == ("error: environment variable SFX_AUDIO_EMBEDDING: "
                                           "audio_embedding must be aisfx or none, got 'clap'")


def test_gen_ranks_and_picks_recordings_without_the_likeness(run_cli, hum_file: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The likeness was measured for retrieval (sfx search), not for ranking renders or a label's recordings:
    gen computes no embedding, and its files and scores are the same whatever the setting."""
    calls: list[int] = []
    original = embedding.Embedder.embed
    monkeypatch.setattr(embedding.Embedder, "embed", lambda self, x, sr: calls.append(1) or original(self, x, sr))

    def made(project: Path, engine: str) -> list[tuple[int, float, bytes]]:
        project.mkdir()
        code, out, err = run_cli("gen", str(hum_file), "door creak", "--project", str(project), "-n", "2", "--json",
                                 "--engine", engine, "--seed", "7", "--source", "test")
        assert code == 0, err
        return [(f["seed"], f["match"], sf.read(f["path"])[0].tobytes()) for f in json.loads(out)["files"]]

    for engine in ("embedded", "library"):
        default = made(tmp_path / f"{engine}-default", engine)
        monkeypatch.setenv("SFX_AUDIO_EMBEDDING", "none")
        assert made(tmp_path / f"{engine}-none", engine) == default
        monkeypatch.delenv("SFX_AUDIO_EMBEDDING")
    assert calls == []
