"""The Stable Audio Open engine, driven on CPU by the tiny random-weight ``debug`` model.

The debug model is built from the real stable-audio-tools classes (oobleck
VAE, DiT, lookup-table prompt conditioner on the offline MiniLM tokenizer,
seconds conditioners), so these tests run the same loading, conditioning,
audio-to-audio, adapter and sampling code a user's real weights go through.
"""

from __future__ import annotations

import http.server
import json
import os
import shlex
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pytest
import soundfile as sf

from sfxcli.errors import EngineUnavailableError, TrainingError
from tests.conftest import REPO, hum

OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def sfx(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``sfx`` in a fresh process, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "sfxcli", *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **OFFLINE, **(env or {})}, cwd=cwd)


def one_line_error(result: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    assert result.returncode == code, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr and result.stdout == ""
    first = result.stderr.strip().splitlines()[0]
    assert first.startswith("error: "), result.stderr
    for needle in needles:
        assert needle in result.stderr, (needle, result.stderr)


@pytest.fixture(scope="module")
def debug_model() -> Any:
    from sfxcli.engines.sao import load_model

    return load_model("debug")


@pytest.fixture(scope="module")
def debug_folder(tmp_path_factory: pytest.TempPathFactory, debug_model: Any) -> Path:
    from sfxcli.engines.sao import save_model_folder

    return save_model_folder(debug_model, tmp_path_factory.mktemp("models") / "debug-model")


@pytest.fixture()
def take(tmp_path: Path) -> Path:
    path = tmp_path / "hum.wav"
    sf.write(path, hum(1.5), 16000)
    return path


def settings(model: Any, steps: int = 6) -> dict[str, Any]:
    from sfxcli.engines.sao import sampler_settings
    from sfxcli.presets import Generative

    return sampler_settings(model, Generative(steps=steps))


def test_debug_model_generates_a_seeded_batch(debug_model: Any) -> None:
    from sfxcli.engines.sao import generate

    assert (debug_model.objective, debug_model.device, debug_model.latent_dim) == ("v", "cpu", 8)
    first = generate(debug_model, "door creak", "music", 1.0, 3, 7, settings(debug_model))
    again = generate(debug_model, "door creak", "music", 1.0, 3, 7, settings(debug_model))
    other = generate(debug_model, "door creak", "music", 1.0, 3, 8, settings(debug_model))
    assert first.shape == (3, 44160) and np.all(np.isfinite(first))  # 1 s rounded up to whole latent frames
    assert np.array_equal(first, again) and not np.allclose(first, other)
    assert not np.allclose(first[0], first[1])  # the batch's items are different variations
    prompted = generate(debug_model, "glass smash", "music", 1.0, 3, 7, settings(debug_model))
    assert not np.array_equal(first, prompted)  # the prompt reaches the model (random weights: a small change)


def test_audio_to_audio_sketch_matters_less_as_its_noise_grows(debug_model: Any) -> None:
    from sfxcli.engines.sao import generate

    rate = debug_model.sample_rate
    t = np.arange(rate) / rate
    tone = 0.5 * np.sin(2 * np.pi * 220 * t) * np.exp(-3 * t)
    hiss = 0.3 * np.random.default_rng(0).standard_normal(rate) * (t > 0.5)

    def gap(noise: float) -> float:
        a = generate(debug_model, "creak", "", 1.0, 1, 3, settings(debug_model), sketch=tone, sketch_noise=noise)
        b = generate(debug_model, "creak", "", 1.0, 1, 3, settings(debug_model), sketch=hiss, sketch_noise=noise)
        return float(np.sqrt(np.mean((a - b) ** 2)))

    close, far = gap(0.1), gap(100.0)
    assert close > 0 and close > 100 * far, (close, far)
    plain = generate(debug_model, "creak", "", 1.0, 1, 3, settings(debug_model))
    sketched = generate(debug_model, "creak", "", 1.0, 1, 3, settings(debug_model), sketch=tone, sketch_noise=0.5)
    assert not np.allclose(plain, sketched)


def test_sao_gen_end_to_end_and_its_reproduce_command(tmp_path: Path, take: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    result = sfx("gen", str(take), "door creak", "--engine", "sao", "--model", "debug", "--steps", "4", "-n", "2",
                 "--seed", "11", "--json", "-p", str(project))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)  # the library's seed prints and progress bars stay off stdout
    assert report["engine"] == "sao" and "engine sao: debug" in result.stderr
    files = [Path(f["path"]) for f in report["files"]]
    assert len(files) == 2 and all(project / "sfx" in p.parents for p in files)
    audio, rate = sf.read(files[0])
    assert rate == 48000 and abs(len(audio) / rate - 1.5) < 0.4 and np.max(np.abs(audio)) > 0.5
    sidecar = json.loads(files[0].with_suffix(".json").read_text())
    params = sidecar["parameters"]
    assert sidecar["engine"] == "sao" and params["model"] == "debug" and params["sampler"]["steps"] == 4
    assert params["prompt"].startswith("door creak, wooden creak") and params["sketch"] == "the library engine's render"
    assert params["batch_size"] == 2 and "batch item" in sidecar["reproduce_note"]
    # the reproduce command remakes the batch bit for bit
    again = tmp_path / "again"
    again.mkdir()
    command = shlex.split(sidecar["reproduce"])
    assert command[:2] == ["sfx", "gen"]
    rerun = sfx(*command[1:], "-p", str(again))
    assert rerun.returncode == 0, rerun.stderr
    for original in files:
        assert (again / "sfx" / original.name).read_bytes() == original.read_bytes()


def test_local_folder_round_trip(debug_model: Any, debug_folder: Path) -> None:
    from sfxcli.engines.sao import generate, load_model

    assert sorted(p.name for p in debug_folder.iterdir()) == ["model.safetensors", "model_config.json"]
    config = json.loads((debug_folder / "model_config.json").read_text())
    assert config["model"]["conditioning"]["configs"][0]["config"]["tokenizer_name"] == "sfx:minilm"  # portable
    loaded = load_model(str(debug_folder))
    assert loaded.source.kind == "folder"
    saved, original = loaded.model.state_dict(), debug_model.model.state_dict()
    assert saved.keys() == original.keys() and all(np.array_equal(saved[k], original[k]) for k in saved)
    ours = generate(loaded, "wind", "", 0.5, 2, 4, settings(loaded))
    theirs = generate(debug_model, "wind", "", 0.5, 2, 4, settings(debug_model))
    assert np.array_equal(ours, theirs)


def test_training_checkpoints_load_from_the_folder(tmp_path: Path, debug_model: Any, debug_folder: Path) -> None:
    """A Lightning-style ``model.ckpt`` ({'state_dict': {'diffusion.…': …}}) loads like the unwrapped weights."""
    import torch

    from sfxcli.engines.sao import load_model

    folder = tmp_path / "ckpt-model"
    folder.mkdir()
    (folder / "model_config.json").write_text((debug_folder / "model_config.json").read_text())
    state = {f"diffusion.{k}": v for k, v in debug_model.model.state_dict().items()}
    torch.save({"state_dict": state, "global_step": 10}, folder / "model.ckpt")
    loaded = load_model(str(folder))
    assert all(torch.equal(loaded.model.state_dict()[k], v) for k, v in debug_model.model.state_dict().items())


def _broken_folder(tmp_path: Path, debug_folder: Path, case: str) -> Path:
    folder = tmp_path / case
    folder.mkdir()
    config = json.loads((debug_folder / "model_config.json").read_text())
    if case == "no-config":
        (folder / "model.safetensors").write_bytes((debug_folder / "model.safetensors").read_bytes())
    elif case == "no-checkpoint":
        (folder / "model_config.json").write_text(json.dumps(config))
    elif case == "corrupt":
        (folder / "model_config.json").write_text(json.dumps(config))
        data = (debug_folder / "model.safetensors").read_bytes()
        (folder / "model.safetensors").write_bytes(data[: len(data) // 3])  # a download cut short
    elif case == "mismatch":
        config["model"]["diffusion"]["config"]["depth"] = 3
        (folder / "model_config.json").write_text(json.dumps(config))
        (folder / "model.safetensors").write_bytes((debug_folder / "model.safetensors").read_bytes())
    elif case == "not-diffusion":
        (folder / "model_config.json").write_text(json.dumps({"model_type": "autoencoder"}))
        (folder / "model.safetensors").write_bytes(b"")
    elif case == "bad-json":
        (folder / "model_config.json").write_text("{ not json")
        (folder / "model.safetensors").write_bytes(b"")
    return folder


@pytest.mark.parametrize(("case", "needle"), [
    ("no-config", "has no model_config.json"),
    ("no-checkpoint", "has no checkpoint"),
    ("corrupt", "is damaged or not a model checkpoint"),
    ("mismatch", "does not fit"),
    ("not-diffusion", "needs a diffusion_cond model"),
    ("bad-json", "is not readable JSON"),
])
def test_broken_model_folders_are_named_clearly(tmp_path: Path, debug_folder: Path, case: str, needle: str) -> None:
    from sfxcli.engines.sao import load_model

    folder = _broken_folder(tmp_path, debug_folder, case)
    with pytest.raises(EngineUnavailableError) as error:
        load_model(str(folder))
    assert needle in error.value.message and "\n" not in error.value.message


@pytest.mark.parametrize(("spec", "needle"), [
    ("/no/such/model", "no model folder at /no/such/model"),
    ("./runs/missing", "no model folder at ./runs/missing"),
    ("not a model", "no model folder at not a model"),
    ("stabilityai/stable-audio-open-1.0", "is not in the Hugging Face cache and the hub cannot be reached"),
])
def test_missing_weights_are_one_clear_line(tmp_path: Path, take: Path, spec: str, needle: str) -> None:
    result = sfx("gen", str(take), "door creak", "--engine", "sao", "--model", spec, "-p", str(tmp_path),
                 env={"HF_HOME": str(tmp_path / "hf")})
    one_line_error(result, EngineUnavailableError.exit_code, needle)
    assert not (tmp_path / "sfx").exists()


class _FakeHub(http.server.BaseHTTPRequestHandler):
    """Answers like the Hugging Face hub does for gated and unknown repositories."""

    def _answer(self) -> None:
        code, reason = (403, "GatedRepo") if "/gated-" in self.path else (404, "RepoNotFound")
        self.send_response(code)
        self.send_header("X-Error-Code", reason)
        self.send_header("X-Error-Message", "Access to this model is restricted")
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_HEAD = do_GET = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def fake_hub() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FakeHub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.parametrize(("repo", "needle"), [
    ("stabilityai/gated-audio-model", "is gated: accept its licence at https://huggingface.co/stabilityai/gated-audio-model"),
    ("someone/unknown-model", "no model someone/unknown-model on the Hugging Face hub"),
])
def test_gated_and_unknown_hub_ids(tmp_path: Path, take: Path, fake_hub: str, repo: str, needle: str) -> None:
    """A stand-in for the hub on 127.0.0.1 answers as huggingface.co does; nothing leaves the machine."""
    result = sfx("gen", str(take), "door creak", "--engine", "sao", "--model", repo, "-p", str(tmp_path),
                 env={"HF_HUB_OFFLINE": "0", "HF_ENDPOINT": fake_hub, "HF_HOME": str(tmp_path / "hf")})
    one_line_error(result, EngineUnavailableError.exit_code, needle)


def test_uncached_text_encoder_is_explained(tmp_path: Path, debug_folder: Path) -> None:
    """Stable Audio Open's own config names t5-base; offline and uncached, that is what the user is told."""
    from sfxcli.engines.sao import load_model

    config = json.loads((debug_folder / "model_config.json").read_text())
    config["model"]["conditioning"]["configs"][0] = {"id": "prompt", "type": "t5",
                                                     "config": {"t5_model_name": "t5-base", "max_length": 64}}
    folder = tmp_path / "t5-model"
    folder.mkdir()
    (folder / "model_config.json").write_text(json.dumps(config))
    (folder / "model.safetensors").write_bytes((debug_folder / "model.safetensors").read_bytes())
    os.environ["HF_HOME"], previous = str(tmp_path / "hf"), os.environ.get("HF_HOME")
    try:
        with pytest.raises(EngineUnavailableError) as error:
            load_model(str(folder))
    finally:
        if previous is None:
            os.environ.pop("HF_HOME", None)
        else:
            os.environ["HF_HOME"] = previous
    assert "text encoder" in error.value.message and "t5-base" in (error.value.hint or "")


def test_missing_stable_audio_tools_is_explained(tmp_path: Path, take: Path) -> None:
    shim = tmp_path / "shim" / "stable_audio_tools"
    shim.mkdir(parents=True)
    (shim / "__init__.py").write_text("raise ImportError(\"No module named 'k_diffusion'\")\n")
    result = sfx("gen", str(take), "door creak", "--engine", "sao", "--model", "debug", "-p", str(tmp_path),
                 env={"PYTHONPATH": f"{shim.parent}{os.pathsep}{REPO}"})
    one_line_error(result, EngineUnavailableError.exit_code, "needs stable-audio-tools",
                   "pip install --no-deps stable-audio-tools==0.0.19")


def test_controls_adapter_steers_generation(tmp_path: Path, debug_folder: Path) -> None:
    import torch

    from sfxcli.engines.sao.adapter import AdapterInfo, new_adapter, save_adapter
    from sfxcli.engines.sao import generate, load_model

    loaded = load_model(str(debug_folder))
    base = generate(loaded, "whoosh", "", 1.0, 1, 2, settings(loaded))
    frames = 44160 // loaded.downsampling
    rising = np.stack([np.linspace(0, 1, frames)] * 3).astype(np.float32)
    falling = rising[:, ::-1].copy()

    untrained = new_adapter(loaded.latent_dim)  # zero-initialised: no effect until trained
    save_adapter(untrained, AdapterInfo(loaded.latent_dim), tmp_path / "zero.safetensors")
    with_zero = load_model(str(debug_folder), tmp_path / "zero.safetensors")
    assert np.array_equal(generate(with_zero, "whoosh", "", 1.0, 1, 2, settings(loaded), curves=rising), base)

    trained = new_adapter(loaded.latent_dim)
    with torch.no_grad():
        for parameter in trained.parameters():
            parameter.normal_(0, 0.5, generator=torch.Generator().manual_seed(1))
    save_adapter(trained, AdapterInfo(loaded.latent_dim, median_frames=3), tmp_path / "trained.safetensors")
    with_adapter = load_model(str(debug_folder), tmp_path / "trained.safetensors")
    up = generate(with_adapter, "whoosh", "", 1.0, 1, 2, settings(loaded), curves=rising)
    down = generate(with_adapter, "whoosh", "", 1.0, 1, 2, settings(loaded), curves=falling)
    off = generate(with_adapter, "whoosh", "", 1.0, 1, 2, settings(loaded), curves=rising, control_strength=0.0)
    assert not np.allclose(up, down) and not np.allclose(up, base)
    assert np.allclose(off, base, atol=1e-6)
    assert np.array_equal(generate(with_adapter, "whoosh", "", 1.0, 1, 2, settings(loaded)), base)  # no curves, no push
    # an adapter beside the checkpoint is picked up by --model FOLDER alone
    folder = tmp_path / "with-adapter"
    folder.mkdir()
    for name in ("model_config.json", "model.safetensors"):
        (folder / name).write_bytes((debug_folder / name).read_bytes())
    (folder / "controls_adapter.safetensors").write_bytes((tmp_path / "trained.safetensors").read_bytes())
    assert load_model(str(folder)).adapter_median == 3


def test_adapter_files_are_checked(tmp_path: Path, debug_folder: Path) -> None:
    from sfxcli.engines.sao.adapter import AdapterInfo, new_adapter, save_adapter
    from sfxcli.engines.sao import load_model

    save_adapter(new_adapter(16), AdapterInfo(16), tmp_path / "wide.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"not a tensor file")
    for name, needle in (("wide.safetensors", "trained for 16 latent channels; this model has 8"),
                         ("junk.safetensors", "is damaged or not a safetensors file")):
        with pytest.raises(EngineUnavailableError) as error:
            load_model(str(debug_folder), tmp_path / name)
        assert needle in error.value.message


def test_gen_with_adapter_records_it(tmp_path: Path, take: Path, debug_folder: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    from sfxcli.engines.sao.adapter import AdapterInfo, new_adapter, save_adapter

    save_adapter(new_adapter(8), AdapterInfo(8), tmp_path / "adapter.safetensors")
    code, out, err = run_cli("gen", str(take), "wind", "--engine", "sao", "--model", str(debug_folder), "--adapter",
                             str(tmp_path / "adapter.safetensors"), "--steps", "3", "-n", "1", "--sketch", "imitation",
                             "--sketch-noise", "0.8", "-p", str(tmp_path), "--seed", "1")
    assert code == 0, err
    sidecar = json.loads(Path(out.strip()).with_suffix(".json").read_text())
    params = sidecar["parameters"]
    assert params["controls_adapter"] == str((tmp_path / "adapter.safetensors").resolve())
    assert params["sketch"] == "the imitation" and params["sketch_noise"] == 0.8
    assert "--adapter" in sidecar["reproduce"] and "--sketch imitation" in sidecar["reproduce"]
    code, _, err = run_cli("gen", str(take), "wind", "--engine", "sao", "--model", "debug", "--sketch", "voice",
                           "-p", str(tmp_path))
    assert code == 2 and "sketch must be one of engine, imitation, none" in err


def test_control_features_follow_the_take() -> None:
    from sfxcli.analysis import analyse, controls_from_curves
    from sfxcli.engines.sao.adapter import CONTROL_NAMES, control_features

    rate = 16000
    audio = hum(2.0, rate, f0=150.0, f1=300.0) * np.linspace(0.05, 1.0, 2 * rate)
    controls = controls_from_curves(analyse(audio, rate))
    latent_rate = 44100 / 2048
    frames = 60  # about 2.8 s: longer than the take
    features = control_features(controls, frames, latent_rate, median_frames=3)
    assert features.shape == (len(CONTROL_NAMES), frames) and features.dtype == np.float32
    inside = int(2.0 * latent_rate) - 2
    loudness, pitch = features[0, :inside], features[2, :inside]
    assert np.corrcoef(np.arange(inside), loudness)[0, 1] > 0.9  # a swell rises
    assert pitch[-3:].mean() > pitch[3:6].mean() + 0.5  # an octave glide rises by about one (12 semitones / 12)
    assert np.all(features[:, int(2.0 * latent_rate) + 2:] == 0)  # past the take: silence, no pitch


def test_serve_holds_the_model_and_answers_requests(tmp_path: Path, take: Path) -> None:
    from tests.test_bridge import Client, _start, _stop

    project = tmp_path / "project"
    project.mkdir()
    proc, port = _start(project, "--engine", "sao", "--model", "debug")
    try:
        client = Client(port)
        client.send("/sfx/status", "s1")
        _, status = client.answer("s1", ("/sfx/status",))
        assert status[1] == "sao" and status[2].startswith("cpu (float32, debug")
        for rid, extra in (("a", ["steps", 3]), ("b", ["steps", 3, "sketch", "none", "cfg", 2.5])):
            client.send("/sfx/generate", rid, str(take), "laser zap", "variations", 2, "seed", 4, *extra)
            address, args = client.answer(rid, ("/sfx/done", "/sfx/error"), timeout=120)
            assert address == "/sfx/done", args
            paths = [Path(p) for p in args[1:]]
            assert len(paths) == 2 and all(p.is_file() and project in p.parents for p in paths)
            sidecar = json.loads(paths[0].with_suffix(".json").read_text())
            assert sidecar["engine"] == "sao" and sidecar["parameters"]["sampler"]["steps"] == 3
        assert sidecar["parameters"]["sketch"] == "none" and sidecar["parameters"]["sampler"]["cfg_scale"] == 2.5
        client.send("/sfx/generate", "c", str(take), "laser zap", "sketch", "voice")
        address, args = client.answer("c", ("/sfx/done", "/sfx/error"))
        assert address == "/sfx/error" and "sketch must be one of" in args[1]
    finally:
        assert _stop(proc) == 0


def test_serve_with_missing_weights_stops_with_one_line(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "sfxcli", "serve", "--port", "0", "--engine", "sao", "--model",
                             str(tmp_path / "nowhere"), "-p", str(tmp_path)], capture_output=True, text=True,
                            timeout=120, env={**os.environ, **OFFLINE})
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "no model folder at" in result.stderr, result.stderr


def test_doctor_says_whether_sao_can_run(tmp_path: Path, debug_folder: Path) -> None:
    missing = sfx("doctor", "--json", env={"HF_HOME": str(tmp_path / "hf")})
    assert missing.returncode == 0, missing.stderr
    sao = json.loads(missing.stdout)["engines"]["sao"]
    assert sao["usable"] is False and "is not in the Hugging Face cache" in sao["why"] and "hf download" in sao["why"]
    present = sfx("doctor", "--json", env={"SFX_SAO_MODEL": str(debug_folder)})
    sao = json.loads(present.stdout)["engines"]["sao"]
    assert sao["usable"] is True and str(debug_folder) in sao["why"] and "cpu" in sao["why"]
    match = json.loads(present.stdout)["engines"]["match model"]
    assert match["usable"] is True and "held-out fused MRR" in match["why"]


class _RecordingHub(http.server.BaseHTTPRequestHandler):
    seen: list[str] = []

    def _answer(self) -> None:
        _RecordingHub.seen.append(f"{self.command} {self.path}")
        self.send_response(503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_HEAD = do_GET = do_POST = _answer

    def log_message(self, *args: Any) -> None:
        pass


def test_debug_model_never_calls_the_hub(tmp_path: Path, take: Path) -> None:
    """Even with offline mode off, the debug model's text conditioning and loading touch no hub."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RecordingHub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = sfx("gen", str(take), "rain", "--engine", "sao", "--model", "debug", "--steps", "2", "-n", "1",
                     "-p", str(tmp_path), env={"HF_HUB_OFFLINE": "0", "TRANSFORMERS_OFFLINE": "0",
                                              "HF_ENDPOINT": f"http://127.0.0.1:{server.server_address[1]}",
                                              "HF_HOME": str(tmp_path / "hf")})
    finally:
        server.shutdown()
    assert result.returncode == 0, result.stderr
    assert _RecordingHub.seen == []


def test_sampling_reports_steps_and_can_be_cancelled_mid_batch(tmp_path: Path, take: Path) -> None:
    from sfxcli.errors import CancelledError
    from sfxcli.pipeline import generate
    from sfxcli.request import GenerateRequest

    request = GenerateRequest(imitation=take, label="wind", project=tmp_path, engine="sao", model="debug", steps=5,
                              variations=2, seed=1)
    seen: list[str] = []
    generate(request, lambda message, fraction: seen.append(message))
    steps = [m for m in seen if m.startswith("sampling step")]
    assert steps[0] == "sampling step 1/5 of candidates 1-2" and steps[-1] == "sampling step 5/5 of candidates 1-2"
    written = sorted(tmp_path.rglob("*.wav"))
    polls: list[int] = []

    def cancel_after_two_steps() -> bool:
        polls.append(1)
        return len(polls) > 3  # one check before the batch, then one per step

    with pytest.raises(CancelledError):
        generate(request, cancelled=cancel_after_two_steps)
    assert len(polls) == 4 and sorted(tmp_path.rglob("*.wav")) == written  # stopped mid-sampling, nothing written


def test_takes_longer_than_the_model_window_are_refused(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    long_take = tmp_path / "long.wav"
    sf.write(long_take, hum(48.0), 16000)
    code, out, err = run_cli("gen", str(long_take), "wind", "--engine", "sao", "--model", "debug", "-p", str(tmp_path))
    assert code == EngineUnavailableError.exit_code and out == ""
    assert "generates at most 47.6 s; this request needs" in err and not (tmp_path / "sfx").exists()


def test_controls_training_makes_an_adapter_that_follows_the_curves(tmp_path: Path) -> None:
    import csv as csv_module

    from sfxcli.engines.sao import generate, load_model

    rows = list(csv_module.DictReader(open(REPO.parent / "shared" / "data" / "sfx" / "manifest.csv")))[:6]
    manifest = tmp_path / "manifest.csv"
    with open(manifest, "w", newline="") as handle:
        writer = csv_module.writer(handle)
        writer.writerow(["label", "sound"])
        writer.writerows([(r["label"], str(REPO.parent / "shared" / "data" / "sfx" / r["path"])) for r in rows])
    result = sfx("train", "controls", "--data", str(manifest), "--model", "debug", "--run", str(tmp_path / "run"),
                 "--steps", "20", "--batch-size", "4", "--seconds", "2")
    assert result.returncode == 0, result.stderr
    adapter = Path(result.stdout.strip())
    assert adapter.name == "controls_adapter.safetensors" and (tmp_path / "run" / "loss.png").is_file()
    losses = [row["loss"] for row in csv_module.DictReader(open(tmp_path / "run" / "log.csv")) if row["loss"]]
    assert len(losses) == 20 and all(np.isfinite(float(v)) for v in losses)
    loaded = load_model("debug", adapter)
    assert loaded.adapter_median == 3
    frames = 44160 // loaded.downsampling
    rising = np.stack([np.linspace(0, 1, frames)] * 3).astype(np.float32)
    up = generate(loaded, "wind", "", 1.0, 1, 5, settings(loaded), curves=rising)
    down = generate(loaded, "wind", "", 1.0, 1, 5, settings(loaded), curves=rising[:, ::-1].copy())
    assert not np.allclose(up, down)  # trained from zero, the adapter now responds to the curves
    taken = sfx("train", "controls", "--data", str(manifest), "--run", str(tmp_path / "run"), "--steps", "2")
    assert taken.returncode == 80 and "is not empty" in taken.stderr


def test_controls_training_rolls_back_a_nan_then_stops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch with NaN latents (a broken file) rolls the adapter back and halves the rate; NaN every time stops."""
    import csv as csv_module

    import training.adapter as adapter_training
    from training.adapter import ControlsConfig, train_controls
    from training.data import read_manifest

    real = adapter_training._batch
    left = [1]

    def batch(crops: Any, loaded: Any, config: Any, step: int) -> Any:
        latents, curves, metadata = real(crops, loaded, config, step)
        if step + 1 == 5 and left[0] > 0:
            left[0] -= 1
            latents = latents * float("nan")
        return latents, curves, metadata

    monkeypatch.setattr(adapter_training, "_batch", batch)
    examples = read_manifest(_manifest(tmp_path, 3))
    config = ControlsConfig(steps=12, batch_size=2, seconds=1.0, crops_per_sound=1, checkpoint_every=6)
    result = train_controls(examples, "debug", config, tmp_path / "once")
    events = [row["event"] for row in csv_module.DictReader(open(tmp_path / "once" / "log.csv")) if row["event"]]
    assert result.steps == 12 and events == ["non-finite loss: back to step 0, lr x0.5"]
    left[0] = 99
    with pytest.raises(TrainingError, match="stayed NaN or infinite after 3 rollbacks"):
        train_controls(examples, "debug", config, tmp_path / "always")


def _manifest(folder: Path, n: int = 6) -> Path:
    import csv as csv_module

    rows = list(csv_module.DictReader(open(REPO.parent / "shared" / "data" / "sfx" / "manifest.csv")))[:n]
    path = folder / "manifest.csv"
    with open(path, "w", newline="") as handle:
        writer = csv_module.writer(handle)
        writer.writerow(["label", "sound"])
        writer.writerows([(r["label"], str(REPO.parent / "shared" / "data" / "sfx" / r["path"])) for r in rows])
    return path


def test_finetune_run_is_a_model_gen_uses_and_resumes(tmp_path: Path, take: Path) -> None:
    run = tmp_path / "run"
    common = ("train", "finetune", "--data", str(_manifest(tmp_path)), "--model", "debug", "--run", str(run),
              "--batch-size", "2", "--seconds", "2", "--checkpoint-every", "3", "--demo-every", "3")
    first = sfx(*common, "--steps", "3")
    assert first.returncode == 0, first.stderr
    assert "converted" in first.stderr and "use it: sfx gen" in first.stderr
    assert {"model_config.json", "model.safetensors", "loss.png", "log.csv"} <= {p.name for p in run.iterdir()}
    assert len(list((run / "demos" / "step_000003").glob("*.wav"))) == 3
    training = json.loads((run / "model_config.training.json").read_text())["training"]
    assert training["learning_rate"] == 5e-5 and training["use_ema"] is True
    again = sfx(*common, "--steps", "5", "--resume")
    assert again.returncode == 0, again.stderr
    steps = [int(row["step"]) for row in __import__("csv").DictReader(open(run / "log.csv"))]
    assert steps[-1] == 4 and len(steps) == 5  # Lightning counts from 0: steps 0..2, then 3..4 after resuming
    project = tmp_path / "project"
    project.mkdir()
    gen = sfx("gen", str(take), "airplane prop", "--engine", "sao", "--model", str(run), "--steps", "3", "-n", "1",
              "-p", str(project))
    assert gen.returncode == 0, gen.stderr
    written = list((project / "sfx").glob("*.wav"))
    assert len(written) == 1
    assert json.loads(written[0].with_suffix(".json").read_text())["parameters"]["model"] == str(run.resolve())


def poison_training_step(monkeypatch: pytest.MonkeyPatch, at_step: int, times: int) -> None:
    """stable-audio-tools' own training step returns a NaN loss at global step ``at_step``, ``times`` times."""
    from stable_audio_tools.training.diffusion import DiffusionCondTrainingWrapper

    real = DiffusionCondTrainingWrapper.training_step
    left = [times]

    def training_step(self: Any, batch: Any, batch_idx: int) -> Any:
        loss = real(self, batch, batch_idx)
        if self.trainer.global_step + 1 == at_step and left[0] > 0:
            left[0] -= 1
            return loss * float("nan")
        return loss

    monkeypatch.setattr(DiffusionCondTrainingWrapper, "training_step", training_step)


def test_finetune_nan_guard_restarts_then_stops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from training.data import read_manifest
    from training.finetune import FinetuneConfig, finetune

    examples = read_manifest(_manifest(tmp_path, 4))
    base = dict(steps=6, batch_size=2, seconds=2.0, demo_every=0, checkpoint_every=2)
    poison_training_step(monkeypatch, 4, 1)
    once = finetune(examples, "debug", FinetuneConfig(**base), tmp_path / "once")
    assert once.restarts == 1 and once.steps == 6
    assert any(n.startswith("non-finite loss at step 4: restarted from the checkpoint at step 2") for n in once.notes)
    poison_training_step(monkeypatch, 4, 9)
    with pytest.raises(TrainingError) as stopped:
        finetune(examples, "debug", FinetuneConfig(**base), tmp_path / "always")
    assert "NaN or infinite 3 times (last at step 4)" in stopped.value.message


def test_finetune_on_pre_encoded_latents(tmp_path: Path) -> None:
    from sfxcli.engines.sao import load_model
    from training.data import read_manifest
    from training.finetune import FinetuneConfig, finetune

    examples = read_manifest(_manifest(tmp_path, 3))
    result = finetune(examples, "debug", FinetuneConfig(steps=3, batch_size=2, seconds=2.0, pre_encode=True,
                                                        crops_per_sound=2, demo_every=0, checkpoint_every=3),
                      tmp_path / "run")
    assert result.steps == 3
    training = json.loads((tmp_path / "run" / "model_config.training.json").read_text())["training"]
    assert training["pre_encoded"] is True
    assert load_model(str(tmp_path / "run")).source.kind == "folder"  # the export loads as a model folder


def test_finetune_out_of_memory_gives_advice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pytorch_lightning as pl
    import torch

    from training.data import read_manifest
    from training.finetune import FinetuneConfig, finetune

    def exhausted(*args: Any, **kwargs: Any) -> None:
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(pl.Trainer, "fit", exhausted)
    with pytest.raises(TrainingError) as error:
        finetune(read_manifest(_manifest(tmp_path, 2)), "debug",
                 FinetuneConfig(steps=2, batch_size=16, seconds=2.0, demo_every=0), tmp_path / "run")
    assert "out of GPU memory at batch size 16" in error.value.message
    assert "--batch-size" in error.value.hint and "--pre-encode" in error.value.hint and "16-mixed" in error.value.hint
