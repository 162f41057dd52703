"""`sfx train autoencoder` and `sfx codec`: codec presets train on real files, resume, guard against NaN,
the decoder fine-tune changes Stable Audio Open's output, and codes round-trip at the stated bitrate."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from sfxcli.errors import TrainingError
from tests.conftest import REPO
from tests.test_sao import one_line_error, sfx

SHARED = REPO.parent / "shared" / "data" / "sfx"
QUICK = dict(batch_size=2, seconds=0.25, demo_every=0, discriminator="none", use_ema=False, holdout=0.2)


def manifest(folder: Path, n: int = 8) -> Path:
    rows = list(csv.DictReader(open(SHARED / "manifest.csv")))[:n]
    path = folder / "manifest.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["label", "sound"])
        writer.writerows([(r["label"], str(SHARED / r["path"])) for r in rows])
    return path


def losses(run: Path, key: str = "mrstft_loss") -> list[float]:
    return [float(r[key]) for r in csv.DictReader(open(run / "log.csv")) if r.get(key)]


def quick(preset: str, **changes: Any) -> tuple[Any, Any]:
    from training.autoencoder import load_preset

    model, config = load_preset(preset)
    return model, replace(config, **{**QUICK, **changes})


@pytest.fixture(scope="module")
def codec_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The rvq-debug codec after 40 steps (adversarial losses on from step 20)."""
    from training.autoencoder import train_codec
    from training.data import read_manifest

    folder = tmp_path_factory.mktemp("codec")
    model, config = quick("rvq-debug", steps=40, checkpoint_every=20, discriminator="encodec", warmup_steps=20,
                          demo_every=20)
    train_codec(read_manifest(manifest(folder)), model, config, folder / "run")
    return folder / "run"


def test_shipped_presets_describe_buildable_codecs_at_their_stated_bitrates() -> None:
    from sfxcli.engines.sao.model import build_model
    from training.autoencoder import check_configs, load_preset, model_config

    expected = {"rvq": 44100 / 512 * 12 * 10, "dac-rvq": 44100 / 512 * 9 * 10, "vae": 44100 / 2048 * 64 * 16,
                "rvq-debug": 6000.0, "dac-rvq-debug": 6000.0, "vae-debug": 50 * 16 * 16}
    for name, bitrate in expected.items():
        model, config = load_preset(name)
        assert check_configs(model, config) == [], name
        assert model.bitrate_bps == pytest.approx(bitrate), name
        assert config.learning_rate <= 3e-4, name  # low by default
        if name.endswith("debug"):
            built = build_model(model_config(model, model.downsampling * 4))
            assert built.downsampling_ratio == model.downsampling and built.io_channels == model.audio_channels
    _, decoder = load_preset("sao-decoder")
    assert decoder.learning_rate <= 3e-5


def test_bad_presets_and_settings_are_refused(tmp_path: Path) -> None:
    from sfxcli.errors import PresetError
    from training.autoencoder import check_configs, load_preset

    (tmp_path / "training").mkdir()
    (tmp_path / "training" / "autoencoder-loop.toml").write_text('extends = "loop"\n')
    with pytest.raises(PresetError, match="circle"):
        load_preset("loop", root=tmp_path)
    (tmp_path / "training" / "autoencoder-typo.toml").write_text('[model]\nstrides = "2,4"\n')
    with pytest.raises(PresetError, match="strides"):
        load_preset("typo", root=tmp_path)
    model, config = load_preset("rvq-debug")
    with pytest.raises(TrainingError, match="discriminator must be one of"):
        check_configs(model, replace(config, discriminator="hifigan"))
    assert "collapse to noise" in check_configs(model, replace(config, learning_rate=5e-3))[0]


@pytest.mark.parametrize("preset", ["rvq-debug", "dac-rvq-debug", "vae-debug"])
def test_a_few_steps_of_each_preset_lower_the_loss(tmp_path: Path, preset: str) -> None:
    from training.autoencoder import train_codec
    from training.data import read_manifest

    model, config = quick(preset, steps=24, checkpoint_every=24)
    result = train_codec(read_manifest(manifest(tmp_path)), model, config, tmp_path / "run")
    assert result.steps == 24 and result.restarts == 0
    curve = losses(tmp_path / "run")
    assert np.mean(curve[-6:]) < 0.9 * np.mean(curve[:3]), curve
    own = {"rvq-debug": "quantizer_loss", "dac-rvq-debug": "commitment_loss", "vae-debug": "kl_loss"}[preset]
    assert len(losses(tmp_path / "run", own)) == 24  # the bottleneck's own loss is part of the objective


def test_rvq_run_trains_logs_demos_and_exports_a_codec(codec_run: Path) -> None:
    assert len(losses(codec_run)) == 20  # the autoencoder's 20 steps; the discriminator trained on the others
    rows = list(csv.DictReader(open(codec_run / "log.csv")))
    assert [int(r["step"]) for r in rows] == list(range(40))
    assert any(r["discriminator_loss"] for r in rows) and any(r["quantizer_loss"] for r in rows)
    assert all(not r["loss"] for r in rows if int(r["step"]) % 2 and r["discriminator_loss"])  # no repeated values
    assert {"model_config.json", "model.safetensors", "codec.json", "loss.png"} <= {p.name for p in codec_run.iterdir()}
    assert sorted(p.name for p in (codec_run / "demos").iterdir()) == ["step_000020", "step_000040"]
    assert len(list((codec_run / "demos" / "step_000040").glob("*_decoded.wav"))) == 4
    info = json.loads((codec_run / "codec.json").read_text())
    assert info["bitrate_bps"] == 6000.0 and info["bottleneck"] == "rvq"


def test_codec_round_trips_a_file_at_the_stated_bitrate(codec_run: Path, tmp_path: Path) -> None:
    source = SHARED / "mod-sounds" / "sounds_apple_bite.ogg"
    original, rate = sf.read(source, always_2d=True)
    codes = tmp_path / "bite.sfxc"
    encoded = sfx("codec", "encode", str(source), "--model", str(codec_run), "-o", str(codes), "--json")
    assert encoded.returncode == 0, encoded.stderr
    report = json.loads(encoded.stdout)
    data = codes.read_bytes()
    header_bytes = 9 + int.from_bytes(data[5:9], "big")
    seconds = len(original) / rate
    payload_bps = 8 * (len(data) - header_bytes) / seconds
    frame_bits = 6 * 10  # one frame of 6 ten-bit codes: the rounding up to whole frames
    assert report["bitrate_bps"] == 6000.0
    assert 6000.0 <= payload_bps <= 6000.0 + frame_bits / seconds + 8 / seconds
    decoded = sfx("codec", "decode", str(codes), "--model", str(codec_run), "-o", str(tmp_path / "bite.wav"))
    assert decoded.returncode == 0, decoded.stderr
    back, back_rate = sf.read(tmp_path / "bite.wav", always_2d=True)
    assert back_rate == rate and back.shape == original.shape
    assert np.all(np.isfinite(back)) and np.max(np.abs(back)) > 1e-4
    again = sfx("codec", "decode", str(codes), "--model", str(codec_run), "-o", str(tmp_path / "bite.wav"))
    one_line_error(again, 30, "exists", "--force")


def test_codec_refuses_bad_files_and_folders(codec_run: Path, tmp_path: Path) -> None:
    from sfxcli.codec import pack, read_info, unpack, Encoded

    one_line_error(sfx("codec", "encode", str(SHARED / "manifest.csv"), "--model", str(codec_run)), 13, "cannot decode")
    one_line_error(sfx("codec", "encode", str(SHARED / "manifest.csv"), "--model", str(tmp_path)), 101, "codec.json")
    not_codes = tmp_path / "x.sfxc"
    not_codes.write_bytes(b"RIFF....")
    one_line_error(sfx("codec", "decode", str(not_codes), "--model", str(codec_run)), 102, "not an sfx codec file")
    info = read_info(codec_run)
    other = pack(Encoded(np.zeros((3, 6), dtype=np.int64), 480, 16000, 1, "0123456789abcdef"), info)
    (tmp_path / "other.sfxc").write_bytes(other)
    one_line_error(sfx("codec", "decode", str(tmp_path / "other.sfxc"), "--model", str(codec_run)), 102,
                   "another codec")
    (tmp_path / "cut.sfxc").write_bytes(other[:-2])
    one_line_error(sfx("codec", "decode", str(tmp_path / "cut.sfxc"), "--model", str(codec_run)), 102, "damaged")
    with pytest.raises(Exception, match="damaged"):
        unpack(other[:-1])


def test_packing_is_exact_for_codes_and_half_precision_latents() -> None:
    from sfxcli.codec import CodecInfo, Encoded, pack, unpack

    rng = np.random.default_rng(0)
    for size, quantizers in ((1024, 6), (1000, 3), (2, 1), (4096, 12)):
        info = CodecInfo("rvq", 16000, 1, 160, quantizers, size, 32)
        codes = rng.integers(0, size, (37, quantizers))
        header, back = unpack(pack(Encoded(codes, 5920, 44100, 2, "f"), info))
        assert np.array_equal(back, codes) and header["source_channels"] == 2
    info = CodecInfo("vae", 16000, 1, 320, 0, 0, 16)
    latents = rng.normal(size=(11, 16)).astype(np.float16)
    _, back = unpack(pack(Encoded(latents, 3520, 16000, 1, "f"), info))
    assert np.array_equal(back, latents.astype(np.float32))


def test_vae_codec_round_trips_latents(tmp_path: Path) -> None:
    from sfxcli.codec import decode, encode, load_codec
    from training.autoencoder import train_codec
    from training.data import read_manifest

    model, config = quick("vae-debug", steps=2, checkpoint_every=2)
    train_codec(read_manifest(manifest(tmp_path, 3)), model, config, tmp_path / "run")
    codec = load_codec(tmp_path / "run")
    audio = np.sin(2 * np.pi * 440 * np.arange(8000) / 16000)[None].astype(np.float32) * 0.5
    encoded = encode(codec, audio, 16000)
    assert encoded.values.dtype == np.float16 and encoded.values.shape == (25, 16)
    first, second = decode(codec, encoded.values, encoded.samples), decode(codec, encoded.values, encoded.samples)
    assert first.shape == (1, 8000) and np.array_equal(first, second)  # the mean, not a sample: deterministic


def test_resume_continues_where_stop_at_paused(tmp_path: Path) -> None:
    data = manifest(tmp_path, 4)
    run = tmp_path / "run"
    common = ("train", "autoencoder", "--data", str(data), "--preset", "rvq-debug", "--run", str(run), "--steps", "6",
              "--batch-size", "2", "--seconds", "0.25", "--discriminator", "none", "--demo-every", "0",
              "--checkpoint-every", "4")
    first = sfx(*common, "--stop-at", "3")
    assert first.returncode == 0, first.stderr
    assert "paused at step 3" in first.stderr and not (run / "codec.json").exists()
    again = sfx(*common, "--resume", "--json")
    assert again.returncode == 0, again.stderr
    summary = json.loads(again.stdout)
    assert summary["steps"] == 6 and summary["finished"] is True
    assert [int(r["step"]) for r in csv.DictReader(open(run / "log.csv"))] == list(range(6))
    assert (run / "codec.json").is_file()
    one_line_error(sfx(*common), 80, "is not empty")


def test_curriculum_and_stage_losses_are_scheduled_and_logged(tmp_path: Path) -> None:
    from training.autoencoder import curriculum_weights, train_codec
    from training.data import read_manifest

    model, config = quick("rvq-debug", steps=6, checkpoint_every=6, curriculum_steps=4, stage_loss_weight=0.5)
    assert curriculum_weights(0, config) == (1.0, 0.25)
    assert curriculum_weights(2, config) == pytest.approx((0.5, 0.625))
    assert curriculum_weights(9, config) == (0.0, 1.0)
    train_codec(read_manifest(manifest(tmp_path, 3)), model, config, tmp_path / "run")
    coarse = losses(tmp_path / "run", "coarse_x16_loss")
    assert coarse[0] > 0 and coarse[-1] == 0.0  # faded out after curriculum_steps
    stage = losses(tmp_path / "run", "stage_loss")
    assert len(stage) == 6 and all(v > 0 for v in stage)


def test_nan_guard_restarts_then_stops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from stable_audio_tools.training.losses.losses import AuralossLoss

    from training.autoencoder import train_codec
    from training.data import read_manifest

    real = AuralossLoss.forward
    calls = {"n": 0, "poison": set()}

    def forward(self: Any, info: dict[str, Any]) -> Any:
        calls["n"] += 1
        loss = real(self, info)
        return loss * float("nan") if calls["n"] in calls["poison"] else loss

    monkeypatch.setattr(AuralossLoss, "forward", forward)
    examples = read_manifest(manifest(tmp_path, 3))
    model, config = quick("rvq-debug", steps=6, checkpoint_every=2)
    calls["poison"] = {4}
    once = train_codec(examples, model, config, tmp_path / "once")
    assert once.restarts == 1 and once.steps == 6
    assert any(n.startswith("non-finite loss at step 4: restarted from the checkpoint at step 2") for n in once.notes)
    calls["n"], calls["poison"] = 0, set(range(4, 10_000))
    with pytest.raises(TrainingError) as stopped:
        train_codec(examples, model, config, tmp_path / "always")
    assert "NaN or infinite 3 times" in stopped.value.message


def test_out_of_memory_gives_advice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pytorch_lightning as pl
    import torch

    from training.autoencoder import train_codec
    from training.data import read_manifest

    def exhausted(*args: Any, **kwargs: Any) -> None:
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(pl.Trainer, "fit", exhausted)
    model, config = quick("rvq-debug", steps=2, batch_size=64)
    with pytest.raises(TrainingError) as error:
        train_codec(read_manifest(manifest(tmp_path, 2)), model, config, tmp_path / "run")
    assert "out of GPU memory at batch size 64" in error.value.message and "--batch-size" in error.value.hint


def test_decoder_fine_tune_keeps_the_encoder_and_changes_what_sao_generates(tmp_path: Path) -> None:
    from safetensors.numpy import load_file

    from sfxcli.engines.sao import load_model, save_model_folder

    base = save_model_folder(load_model("debug"), tmp_path / "base")
    run = tmp_path / "run"
    trained = sfx("train", "autoencoder", "--data", str(manifest(tmp_path, 4)), "--model", str(base), "--run", str(run),
                  "--steps", "3", "--seconds", "0.25", "--discriminator", "none", "--no-ema", "--demo-every", "0",
                  "--checkpoint-every", "3", "--learning-rate", "1e-3")
    assert trained.returncode == 0, trained.stderr
    assert "use it: sfx gen TAKE LABEL --engine sao --model" in trained.stderr
    before, after = load_file(str(base / "model.safetensors")), load_file(str(run / "model.safetensors"))
    assert before.keys() == after.keys()
    encoder = [k for k in before if k.startswith("pretransform.model.encoder.")]
    decoder = [k for k in before if k.startswith("pretransform.model.decoder.")]
    others = [k for k in before if not k.startswith("pretransform.model.decoder.")]
    assert encoder and all(np.array_equal(before[k], after[k]) for k in others)
    assert any(not np.array_equal(before[k], after[k]) for k in decoder)
    take = tmp_path / "hum.wav"
    sf.write(take, 0.4 * np.sin(2 * np.pi * 220 * np.arange(16000) / 16000), 16000)
    outputs = []
    for name, model in (("base", base), ("tuned", run)):
        project = tmp_path / f"project-{name}"
        project.mkdir()
        gen = sfx("gen", str(take), "airplane prop", "--engine", "sao", "--model", str(model), "--steps", "3",
                  "-n", "1", "--seed", "5", "-p", str(project))
        assert gen.returncode == 0, gen.stderr
        outputs.append(sf.read(next((project / "sfx").glob("*.wav")))[0])
    assert outputs[0].shape == outputs[1].shape and not np.allclose(outputs[0], outputs[1], atol=1e-4)
    one_line_error(sfx("codec", "encode", str(take), "--model", str(run)), 101, "sao-decoder", "sfx gen")
