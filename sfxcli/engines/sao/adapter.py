"""Learned control conditioning for diffusion engines (Sketch2Sound-style).

An imitation's time-aligned control curves (loudness, brightness, pitch) are
resampled to the model's latent frame rate, median-filtered, and each is
mapped by its own linear projection into the latent channels; the sum is
added to the diffusion model's input latents at every sampling step. A
trained adapter is a small safetensors file; ``sfx train controls`` writes it
and the Stable Audio Open engine loads it.

The curve preparation is plain numpy; torch is imported only by the adapter
itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.ndimage import median_filter

from sfxcli.analysis import Controls
from sfxcli.errors import EngineUnavailableError

if TYPE_CHECKING:
    import torch

ADAPTER_FORMAT = "sfx-controls-adapter"
ADAPTER_VERSION = 1
CONTROL_NAMES = ("loudness", "brightness", "pitch")


def control_features(controls: Controls, n_frames: int, latent_rate: float, median_frames: int = 1) -> np.ndarray:
    """(len(CONTROL_NAMES), n_frames) float32 curves at the model's latent frame rate.

    loudness and brightness are 0..1 over the take's own range; pitch is
    semitones from the take's median divided by 12, zero where unvoiced. Each
    latent frame averages the control frames it spans; frames past the end of
    the take are zero (silence, no pitch), so the generation window's tail is
    not conditioned on a repeated last frame.
    """
    if n_frames < 1 or latent_rate <= 0:
        raise ValueError("n_frames and latent_rate must be positive")
    pitch = np.where(controls.voicing > 0.5, controls.pitch_semitones / 12.0, 0.0)
    raw = np.stack([controls.level, controls.brightness, pitch]).astype(np.float64)
    edges = np.arange(n_frames + 1) / latent_rate * controls.frame_rate  # in control frames
    out = np.zeros((raw.shape[0], n_frames), dtype=np.float64)
    for i in range(n_frames):
        start = int(edges[i])
        stop = min(max(int(np.ceil(edges[i + 1])), start + 1), raw.shape[1])
        if start < raw.shape[1]:
            out[:, i] = raw[:, start:stop].mean(axis=1)
    if median_frames > 1:
        out = median_filter(out, size=(1, median_frames), mode="nearest")
    return out.astype(np.float32)


@dataclass(frozen=True)
class AdapterInfo:
    latent_dim: int
    controls: tuple[str, ...] = CONTROL_NAMES
    median_frames: int = 1
    trained_on: str = ""  # the base model the adapter was trained with


def new_adapter(latent_dim: int, controls: tuple[str, ...] = CONTROL_NAMES) -> "torch.nn.Module":
    """A zero-initialised adapter: it changes nothing until trained."""
    from torch import nn

    class ControlAdapter(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.controls = controls
            self.latent_dim = latent_dim
            self.projections = nn.ModuleDict({name: nn.Conv1d(1, latent_dim, 1) for name in controls})
            for projection in self.projections.values():
                nn.init.zeros_(projection.weight)
                nn.init.zeros_(projection.bias)

        def forward(self, curves: torch.Tensor) -> torch.Tensor:
            """(batch, controls, frames) -> (batch, latent_dim, frames)."""
            return sum(self.projections[name](curves[:, i:i + 1]) for i, name in enumerate(self.controls))

    return ControlAdapter()


def save_adapter(adapter: "torch.nn.Module", info: AdapterInfo, path: Path) -> None:
    """Write the adapter as one safetensors file with its description in the metadata."""
    from safetensors.torch import save_file

    meta = {"format": ADAPTER_FORMAT, "version": str(ADAPTER_VERSION),
            "info": json.dumps({"latent_dim": info.latent_dim, "controls": list(info.controls),
                                "median_frames": info.median_frames, "trained_on": info.trained_on})}
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.part")
    save_file({k: v.detach().cpu().contiguous() for k, v in adapter.state_dict().items()}, str(temp), metadata=meta)
    temp.replace(path)


def load_adapter(path: Path, latent_dim: int) -> tuple["torch.nn.Module", AdapterInfo]:
    """Read an adapter written by ``save_adapter``; refuses files for another model shape."""
    from safetensors import safe_open

    if not path.is_file():
        raise EngineUnavailableError(f"no controls adapter at {path}")
    try:
        with safe_open(str(path), framework="pt") as handle:
            meta: dict[str, Any] = handle.metadata() or {}
            state = {key: handle.get_tensor(key) for key in handle.keys()}
    except Exception as error:  # noqa: BLE001 - safetensors raises several unrelated types for damaged files
        raise EngineUnavailableError(f"controls adapter {path} is damaged or not a safetensors file: "
                                     f"{str(error).splitlines()[0] if str(error) else type(error).__name__}") from None
    if meta.get("format") != ADAPTER_FORMAT:
        raise EngineUnavailableError(f"{path} is not an sfx controls adapter (written by `sfx train controls`)")
    if meta.get("version") != str(ADAPTER_VERSION):
        raise EngineUnavailableError(f"{path} is a version {meta.get('version')} adapter; this sfx reads version {ADAPTER_VERSION}")
    raw = json.loads(meta["info"])
    info = AdapterInfo(int(raw["latent_dim"]), tuple(raw["controls"]), int(raw.get("median_frames", 1)),
                       str(raw.get("trained_on", "")))
    unknown = set(info.controls) - set(CONTROL_NAMES)
    if unknown:
        raise EngineUnavailableError(f"{path} uses controls this sfx does not know: {', '.join(sorted(unknown))}")
    if info.latent_dim != latent_dim:
        raise EngineUnavailableError(f"controls adapter {path} was trained for {info.latent_dim} latent channels; "
                                     f"this model has {latent_dim}")
    adapter = new_adapter(latent_dim, info.controls)
    try:
        adapter.load_state_dict(state)
    except RuntimeError as error:
        raise EngineUnavailableError(f"controls adapter {path} does not fit its own description: "
                                     f"{str(error).splitlines()[0]}") from None
    return adapter.eval(), info


class ControlInjection:
    """Adds an adapter's output to a diffusion network's input latents while set.

    Attach once with ``attach(network)``; then ``set(curves)`` before sampling
    and ``clear()`` after. The network's weights and state dict are untouched.
    """

    def __init__(self, adapter: "torch.nn.Module", strength: float = 1.0) -> None:
        self.adapter = adapter
        self.strength = strength
        self._term: "torch.Tensor | None" = None
        self._handle: Any = None

    def attach(self, network: "torch.nn.Module") -> None:
        self._handle = network.register_forward_pre_hook(self._hook, with_kwargs=True)

    def detach(self) -> None:
        if self._handle is not None:
            self._handle.remove()
            self._handle = None

    def set(self, curves: "torch.Tensor", grad: bool = False) -> None:
        """``curves``: (batch or 1, controls, latent frames) on the network's device; ``grad`` when training."""
        import torch

        with torch.set_grad_enabled(grad):
            self._term = self.adapter(curves.to(next(self.adapter.parameters()).dtype)) * self.strength

    def clear(self) -> None:
        self._term = None

    def _hook(self, module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]] | None:
        if self._term is None:
            return None
        x = args[0]
        term = self._term.to(x.dtype)
        if term.shape[-1] != x.shape[-1]:
            raise ValueError(f"control curves have {term.shape[-1]} frames, latents {x.shape[-1]}")
        return (x + term, *args[1:]), kwargs
