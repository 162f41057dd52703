"""`sfx train fx`: the loss falls, resume is exact, the NaN guard holds, numpy inference is the trained network."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from sfxcli.errors import TrainingError
from tests.conftest import SHARED

MANIFEST = SHARED / "sfx" / "manifest.csv"


def _quick(**changes: object):  # type: ignore[no-untyped-def]
    from sfxcli.presets import from_table, training_preset
    from training.fx import FxTrainConfig

    data, path = training_preset("fx", "quick")
    return replace(from_table(FxTrainConfig, data["train"], str(path)), **changes)


@pytest.fixture(scope="module")
def sounds() -> list[Path]:
    from training.data import read_manifest

    return [e.sound for e in read_manifest(MANIFEST)[:16]]


def _log(run: Path) -> list[dict[str, str]]:
    with open(run / "log.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def test_a_few_steps_lower_the_loss(sounds: list[Path], tmp_path: Path) -> None:
    from training.fx import train_fx

    config = _quick(steps=25, vae_steps=25, reuse=25, learning_rate=3e-3, warmup_steps=2)  # one batch throughout: it must be learnt
    result = train_fx(sounds, config, tmp_path / "run")
    rows = [r for r in _log(tmp_path / "run") if r["loss"]]
    for stage in ("vae", "estimator"):
        losses = [float(r["loss"]) for r in rows if r["stage"] == stage]
        assert len(losses) == 25
        assert np.mean(losses[-5:]) < 0.9 * np.mean(losses[:5]), (stage, losses)
    assert result.model_path.name == "estimator.safetensors" and result.model_path.is_file()
    assert (tmp_path / "run" / "loss.png").stat().st_size > 1000
    assert {"param_mae", "stft", "blind_param_mae", "blind_stft"} <= set(result.evaluation)


def test_resume_continues_exactly(sounds: list[Path], tmp_path: Path) -> None:
    from safetensors.numpy import load_file

    from training.fx import train_fx

    config = _quick(steps=8, vae_steps=4, checkpoint_every=2, eval_every=4)
    straight = train_fx(sounds, config, tmp_path / "straight")
    paused = train_fx(sounds, config, tmp_path / "paused", stop_at=7)  # inside the estimator stage
    assert paused.steps == 7 and not (tmp_path / "paused" / "estimator.safetensors").exists()
    with pytest.raises(TrainingError):
        train_fx(sounds, config, tmp_path / "paused")  # a run is there: refused without resume
    resumed = train_fx(sounds, config, tmp_path / "paused", resume=True)
    assert resumed.steps == straight.steps == 12
    a, b = load_file(str(straight.model_path)), load_file(str(resumed.model_path))
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    losses = lambda run: [(r["stage"], r["step"], r["loss"]) for r in _log(run) if r["loss"]]  # noqa: E731
    assert losses(tmp_path / "straight") == losses(tmp_path / "paused")
    with pytest.raises(TrainingError):
        train_fx(sounds, replace(config, learning_rate=0.5), tmp_path / "paused", resume=True)  # another config


def test_non_finite_audio_loss_rolls_back_then_stops(sounds: list[Path], tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import training.fx as fx

    real = fx.stft_distance
    calls = {"n": 0}

    def once_nan(a: np.ndarray, b: np.ndarray) -> float:
        calls["n"] += 1
        return float("nan") if calls["n"] == 3 else real(a, b)

    monkeypatch.setattr(fx, "stft_distance", once_nan)
    config = _quick(steps=6, vae_steps=2, eval_every=100)
    result = fx.train_fx(sounds, config, tmp_path / "once")
    assert result.rollbacks == 1 and result.steps == 8
    assert any("non-finite" in r["event"] for r in _log(tmp_path / "once"))

    monkeypatch.setattr(fx, "stft_distance", lambda a, b: float("nan"))
    with pytest.raises(TrainingError) as caught:
        fx.train_fx(sounds, config, tmp_path / "always")
    assert "NaN or infinite" in caught.value.message and (tmp_path / "always" / "checkpoint.safetensors").is_file()


def test_numpy_inference_is_the_trained_network(sounds: list[Path], tmp_path: Path) -> None:
    """The shipped path (numpy) gives what the torch network gave, with and without the dry sound."""
    import torch

    from sfxcli.fxmatch.chain import parse_chain
    from sfxcli.fxmatch.estimator import frame_parts, load_estimator
    from training.fx import _networks, _tensors, save_estimator
    from training.fx_pairs import PairConfig, load_sounds, pair_batch

    config = _quick()
    chain = parse_chain(config.chain)
    torch.manual_seed(3)
    _, Net = _networks(config, chain.dims)
    model = Net().eval()
    save_estimator(model, config, tmp_path / "e.safetensors", 0, {})
    estimator = load_estimator(tmp_path / "e.safetensors")
    arrays, names, _ = load_sounds(sounds[:4])
    pairs, _ = pair_batch(arrays, chain, PairConfig(), 3, 0, 0, names)
    for pair in pairs:
        for dry in (pair.dry, None):
            parts = frame_parts(pair.effected, dry)
            with torch.no_grad():
                expected = model(_tensors({k: v[None] for k, v in parts.items()})).numpy()[0]
            got = estimator.forward(estimator.frame_inputs(parts))
            assert np.allclose(got, expected, atol=1e-5)
            assert np.allclose(estimator.estimate(pair.effected, dry), expected, atol=1e-5)  # one 2 s window


def test_train_fx_command_then_match_with_the_run(run_cli, sounds: list[Path], tmp_path: Path,  # type: ignore[no-untyped-def]
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import soundfile as sf

    monkeypatch.setenv("SFX_USER_PRESETS", str(tmp_path / "presets"))
    manifest = tmp_path / "sounds.csv"
    manifest.write_text("label,sound\n" + "".join(f"x,{p}\n" for p in sounds[:8]))
    code, out, err = run_cli("train", "fx", "--data", str(manifest), "--preset", "quick", "--chain", "eq,reverb",
                             "--steps", "6", "--vae-steps", "2", "--run", str(tmp_path / "run"))
    assert code == 0, err
    assert Path(out.strip()) == tmp_path / "run" / "estimator.safetensors"
    assert "pairs from" in err and "held-out pairs" in err
    from sfxcli.fxmatch.chain import parse_chain
    from sfxcli.match.features import RATE

    x = np.random.default_rng(0).standard_normal(RATE) * np.exp(-np.linspace(0, 6, RATE)) * 0.3
    sf.write(tmp_path / "ref.wav", parse_chain("eq,reverb").render(x, RATE, np.full(10, 0.6)), RATE)
    code, out, err = run_cli("fx", "match", str(tmp_path / "ref.wav"), "--chain", "eq,reverb", "--model",
                             str(tmp_path / "run"))
    assert code == 0, err
    assert Path(out.strip()).name == "match-ref.toml"
    code, _, err = run_cli("fx", "match", str(tmp_path / "ref.wav"), "--model", str(tmp_path / "run"))
    assert code == 95 and "estimates chain eq,reverb" in err  # a model for another chain is refused


def test_fine_tuning_starts_from_an_estimator(sounds: list[Path], tmp_path: Path) -> None:
    from safetensors.numpy import load_file

    from training.fx import train_fx

    first = train_fx(sounds, _quick(steps=4, vae_steps=2), tmp_path / "first")
    tuned = train_fx(sounds, _quick(steps=3, init=str(tmp_path / "first")), tmp_path / "tuned", stop_at=1)
    assert tuned.steps == 1  # one small step from the loaded weights, not from a fresh initialisation
    start, loaded = load_file(str(first.model_path)), load_file(str(tmp_path / "tuned" / "checkpoint.safetensors"))
    assert all(np.allclose(start[k], loaded[k], atol=1e-3) for k in start)
    result = train_fx(sounds, _quick(steps=3, init=str(tmp_path / "first")), tmp_path / "tuned", resume=True)
    assert result.steps == 3 and not [r for r in _log(tmp_path / "tuned") if r["stage"] == "vae"]
    with pytest.raises(TrainingError) as caught:
        train_fx(sounds, _quick(steps=3, chain="eq,reverb", init=str(first.model_path)), tmp_path / "other")
    assert "same chain" in (caught.value.hint or "")
