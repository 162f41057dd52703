"""Stable Audio Open models: naming, finding, checking, building, loading and saving them.

A model is named by a *spec*:

- ``debug``: a tiny random-weight model of the real classes, built in code
  (``sfxcli.engines.sao.debug``), for tests and for trying the plumbing;
- a local folder with ``model_config.json`` and a checkpoint
  (``model.safetensors`` or ``model.ckpt``), optionally with a controls
  adapter ``controls_adapter.safetensors`` beside them;
- a Hugging Face hub id such as ``stabilityai/stable-audio-open-1.0``
  (fetched into, or read from, the Hugging Face cache).

Loading picks the device (the ``device`` setting, else CUDA, MPS, CPU) and
returns a ``LoadedModel``; whoever loads it keeps it (the serve worker holds
one for its whole life). torch and stable-audio-tools are imported only when
a model is loaded.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator


from sfxcli.errors import EngineUnavailableError

DEFAULT_MODEL = "stabilityai/stable-audio-open-1.0"
DEBUG = "debug"
CHECKPOINT_NAMES = ("model.safetensors", "model.ckpt")
ADAPTER_NAME = "controls_adapter.safetensors"
INSTALL_HINT = ("install it with: pip install --no-deps stable-audio-tools==0.0.19 descript-audiotools==0.7.2 descript-audio-codec==1.0.0 "
                "(its other needs come with sfx; see the README)")
HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")


def default_model() -> str:
    """The ``model`` setting (``$SFX_SAO_MODEL``), else Stable Audio Open 1.0 from the hub (or its cache)."""
    from sfxcli.settings import get

    return str(get("model") or DEFAULT_MODEL)


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
def quiet_stable_audio() -> Iterator[None]:
    """stable-audio-tools prints seeds to stdout and progress bars to stderr: keep both off ours."""
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        yield


def pick_device() -> str:
    """``$SFX_DEVICE`` if set, else CUDA, then Apple MPS, then CPU."""
    import torch

    from sfxcli.settings import value

    setting = value("device")
    wanted = str(setting.value or "").strip().lower()
    if wanted:
        origin = setting.source if setting.source != "built-in" else "device"
        if wanted.startswith("cuda") and not torch.cuda.is_available():
            raise EngineUnavailableError(f"device {wanted} (from {origin}) but torch {torch.__version__} sees no CUDA device")
        if wanted == "mps" and not torch.backends.mps.is_available():
            raise EngineUnavailableError(f"device mps (from {origin}) but this torch has no Apple MPS support")
        if not (wanted == "cpu" or wanted == "mps" or wanted.startswith("cuda")):
            raise EngineUnavailableError(f"the device must be cpu, cuda, cuda:N or mps, got {wanted!r} (from {origin})")
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
        with quiet_stable_audio():
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
    from sfxcli.engines.sao.debug import MINILM_TOKENIZER

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
        with quiet_stable_audio(), torch.random.fork_rng(devices=[]):
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
        from sfxcli.engines.sao.debug import debug_config

        config = debug_config()
    else:
        config_path, checkpoint = (_folder_files(Path(source.location)) if source.kind == "folder"
                                   else _hub_files(source.location))
        config = _read_config(config_path)
    model = build_model(config)
    if source.kind == "debug":
        from sfxcli.engines.sao.debug import wake

        wake(model)
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


def _compare_keys(expected: dict[str, Any], given: dict[str, Any]) -> tuple[list[str], list[str]]:
    return sorted(set(expected) - set(given)), sorted(set(given) - set(expected))


def attach_adapter(loaded: LoadedModel, path: Path) -> None:
    """Load a controls adapter and hook it into the diffusion network's input."""
    from sfxcli.engines.sao.adapter import ControlInjection, load_adapter

    adapter, info = load_adapter(Path(path).expanduser(), loaded.latent_dim)
    adapter = adapter.to(loaded.device)
    if loaded.injection is not None:
        loaded.injection.detach()
    loaded.injection = ControlInjection(adapter)
    loaded.injection.attach(loaded.model.model)
    loaded.adapter_path = str(Path(path).expanduser().resolve())
    loaded.adapter_median = info.median_frames


def save_model(model: Any, config: dict[str, Any], folder: Path) -> Path:
    """Write ``model_config.json`` and ``model.safetensors`` (float32): a folder ``--model`` loads directly.

    ``model`` is a stable-audio-tools diffusion model: a loaded one, or a
    fine-tuned one unwrapped from its training wrapper.
    """
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu").float().contiguous() if v.is_floating_point() else v.detach().cpu().contiguous()
             for k, v in model.state_dict().items()}
    temp = folder / ".model.safetensors.part"
    save_file(state, str(temp))
    temp.replace(folder / "model.safetensors")
    (folder / "model_config.json").write_text(json.dumps(config, indent=2) + "\n")
    return folder


def save_model_folder(loaded: LoadedModel, folder: Path) -> Path:
    """A loaded model as a model folder."""
    return save_model(loaded.model, loaded.config, folder)


