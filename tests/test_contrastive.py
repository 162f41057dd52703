"""The contrastive model: data, training, its guards, its numpy twin, and what it powers (ranking, search)."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from sfxcli.errors import DataError, TrainingError
from tests.conftest import SHARED, bursts, hum

SFX = SHARED / "sfx"


def real_sounds(n: int, seed: int = 0) -> list[tuple[str, Path]]:
    rows = list(csv.DictReader(open(SFX / "manifest.csv")))
    rng = np.random.default_rng(seed)
    picked = [rows[i] for i in rng.permutation(len(rows))]
    return [(row["label"], SFX / row["path"]) for row in picked if row["path"].endswith((".ogg", ".flac"))][:n]


def write_manifest(folder: Path, rows: list[tuple[str, ...]], header: tuple[str, ...] = ("label", "sound")) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "manifest.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def quick_config(**train: Any) -> Any:
    from training.contrastive import load_run_config

    return load_run_config("quick", {"workers": 1, "synthetic_per_sound": 1, "augmented_per_take": 1,
                                     "eval_every": 10, "checkpoint_every": 10, "holdout": 0.25, **train})


@pytest.fixture(scope="module")
def prepared() -> Any:
    """24 real sounds, each with one synthetic take (half of them spoken by espeak-ng) and its augmented copy."""
    from training.contrastive import prepare
    from training.data import Example

    examples = [Example(label, path) for label, path in real_sounds(24)]
    return prepare(examples, quick_config(espeak_share=0.5))


def test_spoken_imitation_follows_the_reference_onsets() -> None:
    from sfxcli.analysis import analyse, onset_f1
    from training.data import spoken_imitation

    times = [0.3, 0.9, 1.6, 2.2]
    reference = bursts(times, seconds=3.0)
    found = analyse(reference, 16000).onsets_seconds
    assert len(found) == len(times)  # the reference's onsets are the ones laid down
    for seed in range(3):
        take = spoken_imitation(reference, 16000, seed, "knock")
        assert len(take.onsets_seconds) == len(found) and take.style == "imitation"
        assert np.max(np.abs(take.onsets_seconds - found)) < 0.02, (take.onsets_seconds, found)
        heard = analyse(take.audio, take.sample_rate).onsets_seconds  # and they are audible as onsets in the take
        assert onset_f1(found, heard, tolerance_seconds=0.06) >= 0.75, (heard, found, take.text)
    other = spoken_imitation(reference, 16000, 0, "knock")
    assert np.array_equal(other.audio, spoken_imitation(reference, 16000, 0, "knock").audio)  # seeded


def test_spoken_imitation_chooses_syllables_by_the_sound() -> None:
    from sfxcli.analysis import analyse
    from training.data import IMPULSIVE_SYLLABLES, NOISY_SYLLABLES, TONAL_SYLLABLES, sound_events, spoken_imitation

    rng = np.random.default_rng(0)
    hiss = np.concatenate([np.zeros(3200), 0.3 * rng.standard_normal(24000), np.zeros(3200)])
    clicks = bursts([0.2, 0.7], seconds=1.2) * np.exp(-np.arange(19200) % 8000 / 400.0)
    tone = np.concatenate([np.zeros(1600), hum(1.5, f0=150.0, f1=300.0), np.zeros(1600)])
    for sound, character, table in ((hiss, "noisy", NOISY_SYLLABLES), (clicks, "impulsive", IMPULSIVE_SYLLABLES),
                                    (tone, "tonal", TONAL_SYLLABLES)):
        events = sound_events(analyse(sound, 16000))
        assert {e.character for e in events} == {character}
        words = spoken_imitation(sound, 16000, 1).text.split()
        assert words and all(any(w in family for family in table.values()) for w in words), (character, words)
    held = analyse(spoken_imitation(hiss, 16000, 3).audio, 16000).loudness_db  # a 1.5 s hiss is hissed as long
    assert 1.2 < np.sum(held > held.max() - 20.0) / 100 < 2.0
    notes = sound_events(analyse(tone, 16000))[0].pitch_hz  # a rising tone is sung as rising notes
    assert len(notes) >= 4 and notes[-1] > 1.5 * notes[0]
    take = next(t for t in (spoken_imitation(tone, 16000, seed) for seed in range(10)) if "whisper" not in t.voice.name)
    sung = analyse(take.audio, 16000).pitch_hz
    voiced = sung[sung > 0]
    assert len(voiced) > 20 and np.median(voiced[-10:]) > 1.3 * np.median(voiced[:10]), take.voice


def test_training_data_holds_the_espeak_share(prepared: Any) -> None:
    from training.contrastive import espeak_count

    assert [espeak_count(0.5, 4, seed) for seed in range(3)] == [2, 2, 2]
    assert espeak_count(0.0, 4, 0) == 0 and espeak_count(1.0, 3, 0) == 3
    assert np.mean([espeak_count(0.25, 1, seed) for seed in range(400)]) == pytest.approx(0.25, abs=0.06)
    kinds = [k.split()[0] for sound in prepared.kinds for k in sound]
    assert len(prepared.kinds) == len(prepared.takes) and all(len(k) == len(t) for k, t in zip(prepared.kinds, prepared.takes))
    assert set(kinds) == {"espeak", "synthetic"} and 0.2 < kinds.count("espeak") / len(kinds) < 0.8


def test_shapes_and_loss_on_a_tiny_batch() -> None:
    import torch

    from sfxcli.match.network import ContrastiveModel, ModelConfig, pad_frames
    from training.losses import info_nce

    torch.manual_seed(0)
    model = ContrastiveModel(ModelConfig(width=32, heads=2, embed_dim=16, imitation_dim=21))
    frames, mask = pad_frames([np.random.rand(n, 21).astype(np.float32) for n in (5, 9, 1)] + [None])
    text = torch.randn(4, 384)
    has_text = torch.tensor([True, False, True, True])
    queries = model.encode_query(text, has_text, frames, mask)
    sounds = model.encode_sound(torch.randn(4, 224))
    assert queries.shape == sounds.shape == (4, 16)
    assert torch.allclose(queries.norm(dim=1), torch.ones(4)) and torch.allclose(sounds.norm(dim=1), torch.ones(4))
    assert mask.tolist()[3] == [False] * 9  # the row without an imitation
    random_loss = info_nce(queries, sounds, model.logit_scale).item()
    assert np.isfinite(random_loss) and random_loss > 0
    assert info_nce(sounds, sounds, model.logit_scale).item() < min(random_loss, 0.1)  # identical pairs cost (almost) nothing


def test_numpy_forward_is_the_torch_forward(tmp_path: Path) -> None:
    import torch

    from sfxcli.match import load
    from sfxcli.match.network import ContrastiveModel, ModelConfig, pad_frames
    from training.contrastive import RunConfig, save_model

    torch.manual_seed(1)
    config = ModelConfig(width=32, heads=4, embed_dim=16, imitation_dim=21)
    model = ContrastiveModel(config).eval()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.1)
        model.imitation_mean.normal_()
        model.sound_std.uniform_(0.5, 2.0)
    save_model(model, RunConfig(model=config), tmp_path / "model.safetensors")
    twin = load(tmp_path / "model.safetensors")
    rng = np.random.default_rng(0)
    text = rng.standard_normal((2, 384)).astype(np.float32)
    takes = [rng.standard_normal((n, 21)).astype(np.float32) for n in (12, 30)]
    sounds = rng.standard_normal((5, 224)).astype(np.float32)
    frames, mask = pad_frames(takes)
    with torch.no_grad():
        fused = model.encode_query(torch.from_numpy(text), torch.tensor([True, False]), frames, mask).numpy()
        label_only = model.encode_query(torch.from_numpy(text), torch.tensor([True, True]), frames,
                                        torch.zeros_like(mask)).numpy()
        embedded = model.encode_sound(torch.from_numpy(sounds)).numpy()
    assert np.allclose(fused[0], twin.query(text[0], takes[0]), atol=1e-5)
    assert np.allclose(fused[1], twin.query(None, takes[1]), atol=1e-5)
    assert np.allclose(label_only[0], twin.query(text[0], None), atol=1e-5)
    assert np.allclose(embedded, twin.sounds(sounds), atol=1e-5)


def test_mel_filters_are_librosas() -> None:
    from librosa.filters import mel

    from sfxcli.match.features import FINE_BANDS, N_FFT, RATE, mel_filters

    assert np.allclose(mel_filters(FINE_BANDS), mel(sr=RATE, n_fft=N_FFT, n_mels=FINE_BANDS, fmin=30.0, fmax=RATE / 2))


def test_training_steps_on_real_files_lower_the_loss(prepared: Any, tmp_path: Path) -> None:
    from training.contrastive import train

    assert len(prepared.labels) >= 20 and all(len(t) >= 1 for t in prepared.takes)
    result = train(prepared, quick_config(steps=60), tmp_path / "run")
    losses = [float(row["loss"]) for row in csv.DictReader(open(tmp_path / "run" / "log.csv")) if row["loss"]]
    assert len(losses) == 60 and np.mean(losses[-10:]) < 0.7 * np.mean(losses[:10]), (losses[:10], losses[-10:])
    assert result.model_path.is_file() and json.loads(result.model_path.with_suffix(".json").read_text())["version"] == 1
    assert set(result.evaluation) >= {"fused_mrr", "imitation_mrr", "label_mrr", "fused_r1", "fused_r5", "fused_r10"}


def test_resumed_run_equals_an_uninterrupted_one(prepared: Any, tmp_path: Path) -> None:
    from safetensors.numpy import load_file

    from training.contrastive import train

    config = quick_config(steps=24)
    train(prepared, config, tmp_path / "straight")
    paused = train(prepared, config, tmp_path / "paused", stop_at=10)
    assert paused.steps == 10 and not (tmp_path / "paused" / "model.safetensors").exists()
    with pytest.raises(TrainingError, match="already holds a run"):
        train(prepared, config, tmp_path / "paused")
    train(prepared, config, tmp_path / "paused", resume=True)
    a = load_file(str(tmp_path / "straight" / "model.safetensors"))
    b = load_file(str(tmp_path / "paused" / "model.safetensors"))
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    with pytest.raises(TrainingError, match="another config"):
        train(prepared, quick_config(steps=30), tmp_path / "paused", resume=True)


def poison_batches(monkeypatch: pytest.MonkeyPatch, from_step: int, times: int) -> None:
    """Batches of steps from ``from_step`` on carry NaN sound features, ``times`` times (a broken file's worth)."""
    import training.contrastive as contrastive

    real = contrastive._batch
    left = [times]

    def batch(data: Any, indices: Any, config: Any, step: int) -> Any:
        text, has_text, frames, mask, sounds = real(data, indices, config, step)
        if step + 1 >= from_step and left[0] > 0:
            left[0] -= 1
            sounds = sounds * float("nan")
        return text, has_text, frames, mask, sounds

    monkeypatch.setattr(contrastive, "_batch", batch)


def test_nan_guard_rolls_back_then_stops(prepared: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from training.contrastive import train

    poison_batches(monkeypatch, 15, 1)
    once = train(prepared, quick_config(steps=25), tmp_path / "once")
    assert once.rollbacks == 1 and once.steps == 25
    events = [row["event"] for row in csv.DictReader(open(tmp_path / "once" / "log.csv")) if row["event"]]
    assert events == ["non-finite loss: back to step 10, learning rate x0.5"]
    poison_batches(monkeypatch, 15, 99)
    with pytest.raises(TrainingError) as stopped:
        train(prepared, quick_config(steps=25), tmp_path / "always")
    assert "NaN or infinite at step 15 3 times, even after lowering the learning rate" in stopped.value.message
    assert json.loads((tmp_path / "always" / "state.json").read_text())["step"] == 10


def test_manifest_rows_are_checked(tmp_path: Path) -> None:
    from training.data import read_manifest

    sound = tmp_path / "data" / "a.wav"
    sound.parent.mkdir()
    sf.write(sound, hum(0.5), 16000)
    (tmp_path / "data" / "notes.txt").write_text("x")
    good = read_manifest(write_manifest(tmp_path / "ok", [("door creak", str(sound), "")], ("label", "sound", "imitation")))
    assert good[0].sound == sound and good[0].imitation is None
    bad = write_manifest(tmp_path / "bad", [("", str(sound)), ("glass", "missing.wav"), ("hum", str(sound)),
                                            ("text", str(tmp_path / "data" / "notes.txt"))])
    with pytest.raises(DataError) as error:
        read_manifest(bad)
    message = error.value.message
    assert "3 bad row(s)" in message and "line 2: empty label" in message and "line 3: missing.wav does not exist" in message
    assert "line 5:" in message and "is not wav, flac, ogg, mp3 or aiff" in message
    with pytest.raises(DataError, match="missing column"):
        read_manifest(write_manifest(tmp_path / "cols", [("a",)], ("name",)))


def test_cli_reports_a_bad_manifest_in_one_line(tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path, [("glass", "nowhere.wav")])
    result = subprocess.run([sys.executable, "-m", "sfxcli", "train", "contrastive", "--data", str(manifest),
                             "--run", str(tmp_path / "run")], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert result.returncode == DataError.exit_code and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ") and "line 2: nowhere.wav does not exist" in result.stderr


def test_vimsketch_layout_is_paired_by_name(tmp_path: Path) -> None:
    from training.data import read_vimsketch

    for folder, name in (("references", "000Animal_Cat_Growling.wav"), ("references", "001Door_Door_Creak.wav"),
                         ("vocal_imitations", "00001_Cat_Growling.wav"), ("vocal_imitations", "00002_Door_Creak.wav"),
                         ("vocal_imitations", "00003_Door_Creak.wav"), ("vocal_imitations", "00004_Unknown_Sound.wav")):
        (tmp_path / folder).mkdir(exist_ok=True)
        sf.write(tmp_path / folder / name, hum(0.3), 16000)
    examples = read_vimsketch(tmp_path)
    pairs = sorted((e.label, e.sound.name, e.imitation.name) for e in examples if e.imitation)
    assert pairs == [("Cat Growling", "000Animal_Cat_Growling.wav", "00001_Cat_Growling.wav"),
                     ("Door Creak", "001Door_Door_Creak.wav", "00002_Door_Creak.wav"),
                     ("Door Creak", "001Door_Door_Creak.wav", "00003_Door_Creak.wav")]


def test_synthetic_imitations_follow_and_augmentation_is_checked() -> None:
    from sfxcli.analysis import loudness_correlation
    from sfxcli.audio import read_sound
    from training.data import AugmentConfig, augment, synthetic_imitation

    label, path = real_sounds(1, seed=3)[0]
    sound, rate = read_sound(path)
    take = synthetic_imitation(sound, rate, seed=1)
    assert loudness_correlation(sound, take, rate, 16000) > 0.7, label
    kept = [augment(take, 16000, seed) for seed in range(8)]
    assert all(a.rejected is None and len(a.applied) == 2 for a in kept)
    assert any(not np.allclose(a.audio[: len(take)], take[: len(a.audio)]) for a in kept)
    silent = augment(take * 1e-4, 16000, 0, AugmentConfig(per_example=1))
    assert silent.rejected == "silent or non-finite"
    strict = [augment(take, 16000, seed, AugmentConfig(min_level_r=0.9999)) for seed in range(8)]
    assert any(a.rejected and a.rejected.startswith("level contour lost") for a in strict)


def test_wav2vec2_imitation_encoder_from_a_local_folder(tmp_path: Path) -> None:
    """The real encoder class, tiny and random, saved the way a downloaded model is."""
    from transformers import Wav2Vec2Config, Wav2Vec2Model

    from sfxcli.match.encoders import imitation_encoder

    config = Wav2Vec2Config(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
                            conv_dim=(16, 16), conv_stride=(5, 2), conv_kernel=(10, 3), num_conv_pos_embeddings=16,
                            num_conv_pos_embedding_groups=2)
    Wav2Vec2Model(config).save_pretrained(tmp_path / "w2v")
    encoder = imitation_encoder(f"wav2vec2:{tmp_path / 'w2v'}")
    frames = encoder.encode(hum(2.0), 16000)
    assert encoder.dim == 32 and frames.shape == (50, 32) and np.all(np.isfinite(frames))
    with pytest.raises(Exception, match="cannot load the imitation encoder"):
        imitation_encoder(f"wav2vec2:{tmp_path / 'nothing'}")


def test_search_finds_an_exact_copy_first(tmp_path: Path) -> None:
    library = tmp_path / "library"
    library.mkdir()
    sounds = real_sounds(30, seed=5)
    for label, path in sounds:
        shutil.copy(path, library / f"{label.replace(' ', '_')}{path.suffix}")
    target = sorted(library.iterdir())[7]
    query = tmp_path / f"query{target.suffix}"
    shutil.copy(target, query)
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}

    def search(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "sfxcli", "search", str(query), *extra, "--library", str(library)],
                              capture_output=True, text=True, timeout=120, env=env)

    first = search("--top", "5")
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert len(lines) == 5 and Path(lines[0]) == target.resolve()
    from sfxcli.library.sounds import features_path

    cache = features_path(library, "features")  # this library's, not another test's
    assert cache.is_file()
    stamp = cache.stat().st_mtime_ns
    labelled = search("--json", "--top", "3")  # the second search reads no sound again
    assert cache.stat().st_mtime_ns == stamp
    report = json.loads(labelled.stdout)
    assert report["results"][0]["path"] == str(target.resolve()) and len(report["results"]) == 3
    assert report["results"][0]["score"] >= report["results"][1]["score"] >= report["results"][2]["score"]
    (library / "broken.wav").write_bytes(b"")  # an unreadable newcomer is skipped, not fatal
    sf.write(library / "new hum.wav", hum(1.0), 16000)  # a readable one is read, and only it
    after = search("--top", "1")
    assert after.returncode == 0 and after.stdout.strip() == str(target.resolve())
    assert cache.stat().st_mtime_ns != stamp
    with np.load(cache) as data:
        readable = {p.name for p in library.iterdir() if p.name != "broken.wav"}
        assert set(data["paths"].tolist()) == readable and "new hum.wav" in readable


def test_gen_ranks_with_the_match_model(tmp_path: Path, hum_file: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli("gen", str(hum_file), "door creak", "-n", "3", "--candidates", "5", "--seed", "2",
                             "--engine", "embedded", "-p", str(tmp_path), "--json")
    assert code == 0, err
    files = json.loads(out)["files"]
    sidecars = [json.loads(Path(f["sidecar"]).read_text()) for f in files]
    assert all(s["ranking"] == "ranked by following and match" for s in sidecars)
    matches = [s["score"]["match"] for s in sidecars]
    assert all(-1.0 <= m <= 1.0 for m in matches)
    from sfxcli.rank import MATCH_WEIGHT

    values = [s["score"]["total"] + MATCH_WEIGHT * s["score"]["match"] for s in sidecars]
    assert values == sorted(values, reverse=True)  # written best first


def test_shipped_model_is_consistent() -> None:
    """The shipped weights load in torch (for further training) and in numpy (at run time) and agree."""
    import torch

    from sfxcli.match.features import CONTOUR_DIM, sound_vector
    from sfxcli.match import SHIPPED, imitation_frames, load, text_vector
    from sfxcli.match.network import load_network, pad_frames

    model, description = load_network(SHIPPED)
    twin = load(SHIPPED)
    assert description["encoders"]["text"] == "minilm-words" and description["encoders"]["sound"] == "features"
    assert description["encoders"]["imitation"] in ("contours", "contours-audible")  # no weights to download
    take = np.concatenate([np.zeros(8000), hum(1.5, 16000, f0=150.0, f1=300.0), np.zeros(8000)])
    frames, text = imitation_frames(twin, take, 16000), text_vector(twin, "door creak")
    assert frames.shape[1] == CONTOUR_DIM == description["model"]["imitation_dim"]
    assert text is not None
    padded, mask = pad_frames([frames])
    with torch.no_grad():
        query = model.encode_query(torch.from_numpy(text[None]), torch.tensor([True]), padded, mask).numpy()[0]
        sound = model.encode_sound(torch.from_numpy(sound_vector(take, 16000)[None])).numpy()[0]
    assert np.allclose(query, twin.query(text, frames), atol=1e-5)
    assert np.allclose(sound, twin.sounds(sound_vector(take, 16000))[0], atol=1e-5)


def test_clap_encoders_from_a_local_checkpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """LAION-CLAP's real classes with random weights: RoBERTa from a config and a byte-level vocab written here,
    standing in for the roberta-base a user has in the Hugging Face cache; HTSAT-tiny as it is."""
    import torch
    from tokenizers.pre_tokenizers import ByteLevel
    from transformers import RobertaConfig, RobertaModel, RobertaTokenizer

    import sfxcli.match.encoders as encoders

    missing = tmp_path / "nothing.pt"
    with pytest.raises(Exception, match="no CLAP checkpoint"):
        encoders.text_encoder(f"clap:{missing}")
    specials = ["<s>", "<pad>", "</s>", "<unk>"]
    vocab = {t: i for i, t in enumerate(specials + sorted(ByteLevel.alphabet()) + [f"w{i}" for i in range(800)] + ["<mask>"])}
    (tmp_path / "vocab.json").write_text(json.dumps(vocab))
    (tmp_path / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = RobertaTokenizer(str(tmp_path / "vocab.json"), str(tmp_path / "merges.txt"))
    config = RobertaConfig(vocab_size=len(tokenizer), hidden_size=768, num_hidden_layers=1, num_attention_heads=12,
                           intermediate_size=256, max_position_embeddings=100)
    monkeypatch.setattr(RobertaTokenizer, "from_pretrained", classmethod(lambda cls, *a, **k: tokenizer))
    monkeypatch.setattr(RobertaModel, "from_pretrained", classmethod(lambda cls, *a, **k: RobertaModel(config)))
    monkeypatch.setattr(encoders, "roberta_cached", lambda: False)
    (tmp_path / "clap.pt").write_bytes(b"placeholder")
    with pytest.raises(Exception, match="needs roberta-base, which is not in the Hugging Face cache"):
        encoders.text_encoder(f"clap:{tmp_path / 'clap.pt'}")
    monkeypatch.setattr(encoders, "roberta_cached", lambda: True)
    import laion_clap

    torch.manual_seed(0)
    module = laion_clap.CLAP_Module(enable_fusion=False, amodel="HTSAT-tiny", device="cpu")
    torch.save({"state_dict": {f"module.{k}": v for k, v in module.model.state_dict().items()}}, tmp_path / "clap.pt")
    encoders.load_clap.cache_clear()
    text = encoders.text_encoder(f"clap:{tmp_path / 'clap.pt'}")
    sound = encoders.sound_encoder(f"clap:{tmp_path / 'clap.pt'}")
    vectors = text.encode(["door creak", "glass smash"])
    assert text.dim == sound.dim == 512 and vectors.shape == (2, 512) and not np.allclose(vectors[0], vectors[1])
    with torch.no_grad():
        expected = module.get_text_embedding(["door creak", "glass smash"])
    assert np.allclose(vectors, expected, atol=1e-5)  # the checkpoint's weights, not fresh ones
    hummed, noise = sound.encode(hum(1.0), 16000), sound.encode(np.random.default_rng(0).standard_normal(16000) * 0.2, 16000)
    assert hummed.shape == (512,) and not np.allclose(hummed, noise)
    encoders.load_clap.cache_clear()


def test_unfrozen_top_of_a_wav2vec2_encoder_trains_and_serves(tmp_path: Path) -> None:
    import torch
    from transformers import Wav2Vec2Config, Wav2Vec2Model

    from sfxcli.match import load, match_scores, sound_features
    from sfxcli.match.encoders import _wav2vec2
    from sfxcli.match.network import ModelConfig, load_network
    from training.contrastive import RunConfig, TrainConfig, prepare, train
    from training.data import Example

    config = Wav2Vec2Config(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                            conv_dim=(16, 16), conv_stride=(5, 2), conv_kernel=(10, 3), num_conv_pos_embeddings=16,
                            num_conv_pos_embedding_groups=2)
    torch.manual_seed(0)
    Wav2Vec2Model(config).save_pretrained(tmp_path / "w2v")
    name = f"wav2vec2:{tmp_path / 'w2v'}"
    run_config = RunConfig(
        train=TrainConfig(steps=12, batch_size=8, eval_every=6, checkpoint_every=6, synthetic_per_sound=1,
                          augmented_per_take=0, workers=1, holdout=0.2),
        model=ModelConfig(width=32, heads=2, embed_dim=16, imitation_encoder=name, unfreeze_top=1))
    data = prepare([Example(label, path) for label, path in real_sounds(12, seed=7)], run_config)
    assert data.takes[0][0].shape[1] == 32  # the states entering the top layer
    result = train(data, run_config, tmp_path / "run")
    model, description = load_network(result.model_path)
    source = _wav2vec2(str(tmp_path / "w2v")).encoder.layers[-1]
    trained = model.imitation_top.layers[0]
    moved = [float((a - b).abs().max()) for a, b in zip(trained.parameters(), source.parameters(), strict=True)]
    assert description["model"]["unfreeze_top"] == 1 and max(moved) > 0  # the copy trained, the encoder did not
    matcher = load(result.model_path)  # numpy cannot run transformer layers: the torch twin serves it
    assert type(matcher).__name__ == "TorchMatchModel"
    take = hum(1.0)
    features = np.stack([sound_features(matcher, hum(1.0, f0=f), 16000) for f in (150.0, 300.0, 600.0)])
    scores = match_scores(matcher, "door creak", (take, 16000), features)
    assert scores.shape == (3,) and np.all(np.isfinite(scores))


def test_leave_one_out_never_chooses_with_the_held_out_item() -> None:
    from training.selection import held_out, leave_one_out, objective, reciprocal_rank

    assert reciprocal_rank(np.array([0.1, 0.9, 0.5, 0.9]), 2) == pytest.approx(1 / 3)  # ties count against the target
    # option 1 wins only through item 0, by far: out of fold, item 0 is scored by option 0
    table = np.array([[0.2, 0.5, 0.5, 0.5],
                      [1.0, 0.4, 0.4, 0.4]])
    assert table.mean(axis=1).argmax() == 1
    chosen = leave_one_out(table)
    assert chosen.tolist() == [0, 1, 1, 1]
    assert held_out(table, chosen).tolist() == [0.2, 0.4, 0.4, 0.4]
    fused = np.array([[np.nan, 1.0, np.nan, np.nan]] * 2)
    assert objective(table, fused)[0].tolist() == [0.2, 0.75, 0.5, 0.5]  # an item's label + take query counts half


def test_audible_contours_cut_the_silence_around_a_take() -> None:
    from sfxcli.match.encoders import imitation_encoder
    from sfxcli.match.features import FRAME_RATE, contour_frames

    voiced = hum(1.0, 16000)
    padded = np.concatenate([np.zeros(32000), voiced, np.zeros(64000)])  # 2 s before, 4 s after
    audible = imitation_encoder("contours-audible").encode(padded, 16000)
    assert len(contour_frames(padded, 16000)) == 7 * FRAME_RATE
    assert FRAME_RATE * 0.9 <= len(audible) <= FRAME_RATE * 1.4
    assert np.allclose(audible[3:-3].mean(axis=0), contour_frames(voiced, 16000)[1:-1].mean(axis=0), atol=0.1)
