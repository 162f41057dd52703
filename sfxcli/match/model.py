"""The match model's forward pass in numpy, and loading it.

The network is defined in torch (``sfxcli.match.network``) and trained by
``sfx train contrastive``; running it needs only its weights, read with
``safetensors.numpy``, so ``sfx gen`` ranks its variations and ``sfx search``
finds sounds without importing torch. ``tests/test_contrastive.py`` checks
this forward pass against the torch one.

The shipped model lives in ``sfxcli/data/contrastive/``; the ``match_model``
setting (``$SFX_MATCH_MODEL``) points at another ``model.safetensors``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from sfxcli.errors import EngineUnavailableError
from sfxcli.settings import DATA_DIR

SHIPPED = DATA_DIR / "contrastive" / "model.safetensors"
FORMAT = "sfx-contrastive"
VERSION = 1


def model_path() -> Path:
    from sfxcli.settings import get

    configured = get("match_model")
    return Path(configured) if configured else SHIPPED


@dataclass(frozen=True)
class MatchModel:
    weights: dict[str, np.ndarray]
    description: dict
    path: Path

    @property
    def heads(self) -> int:
        return int(self.description["model"]["heads"])

    @property
    def encoders(self) -> dict[str, str]:
        return dict(self.description["encoders"])

    def _w(self, name: str) -> np.ndarray:
        return self.weights[name]

    def _linear(self, x: np.ndarray, name: str) -> np.ndarray:
        return x @ self._w(f"{name}.weight").T + self._w(f"{name}.bias")

    def _layer_norm(self, x: np.ndarray, name: str) -> np.ndarray:
        mean = x.mean(axis=-1, keepdims=True)
        var = x.var(axis=-1, keepdims=True)
        return (x - mean) / np.sqrt(var + 1e-5) * self._w(f"{name}.weight") + self._w(f"{name}.bias")

    def query(self, text: np.ndarray | None, frames: np.ndarray | None) -> np.ndarray:
        """One unit query vector from a label vector (or None) and an imitation's frames (or None)."""
        if text is None and frames is None:
            raise ValueError("a query needs a label, an imitation or both")
        q = self._linear(text.astype(np.float32), "text_in") if text is not None else self._w("no_label")
        fused = q
        if frames is not None and len(frames):
            x = (frames - self._w("imitation_mean")) / self._w("imitation_std")
            x = self._linear(x, "imitation_in")
            x = x + _gelu(_conv1d(x, self._w("imitation_conv.weight"), self._w("imitation_conv.bias")))
            fused = q + self._attend(q, x)
        fused = self._layer_norm(fused, "norm1")
        ff = self._linear(_gelu(self._linear(fused, "feed_forward.0")), "feed_forward.3")
        fused = self._layer_norm(fused + ff, "norm2")
        out = self._linear(_gelu(self._linear(fused, "query_projection.0")), "query_projection.2")
        return out / max(float(np.linalg.norm(out)), 1e-12)

    def _attend(self, q: np.ndarray, x: np.ndarray) -> np.ndarray:
        width = len(q)
        w_in, b_in = self._w("attention.in_proj_weight"), self._w("attention.in_proj_bias")
        query = q @ w_in[:width].T + b_in[:width]
        keys = x @ w_in[width:2 * width].T + b_in[width:2 * width]
        values = x @ w_in[2 * width:].T + b_in[2 * width:]
        head = width // self.heads
        out = np.empty(width, dtype=np.float32)
        for h in range(self.heads):
            part = slice(h * head, (h + 1) * head)
            scores = keys[:, part] @ query[part] / np.sqrt(head)
            weights = np.exp(scores - scores.max())
            out[part] = (weights / weights.sum()) @ values[:, part]
        return self._linear(out, "attention.out_proj")

    def sounds(self, vectors: np.ndarray) -> np.ndarray:
        """(n, sound_dim) sound features -> (n, embed) unit vectors."""
        x = (np.atleast_2d(vectors) - self._w("sound_mean")) / self._w("sound_std")
        out = self._linear(_gelu(self._linear(x, "sound_projection.0")), "sound_projection.3")
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


def _gelu(x: np.ndarray) -> np.ndarray:
    from scipy.special import erf

    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))


def _conv1d(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """'same' 1-D convolution over time of (T, C_in) with torch's (C_out, C_in, K) weights."""
    k = weight.shape[2]
    padded = np.pad(x, ((k // 2, k // 2), (0, 0)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, k, axis=0)  # (T, C_in, K)
    return np.einsum("tck,ock->to", windows, weight) + bias


@lru_cache(maxsize=2)
def read_model(path: Path) -> MatchModel:
    """A match model file as the numpy model; a clear error when missing or not ours.

    Models with trained encoder layers (``unfreeze_top``) read here too, but
    only their torch twin can run them (``sfxcli.match.load`` picks it).
    """
    from safetensors import safe_open

    if not path.is_file():
        from sfxcli.settings import value

        where = value("match_model").source
        raise EngineUnavailableError(f"no match model at {path}",
                                     "train one with `sfx train contrastive`, or remove the match_model setting "
                                     f"({where})")
    try:
        with safe_open(str(path), framework="numpy") as handle:
            description = json.loads((handle.metadata() or {}).get("sfx", "{}"))
            weights = {k: handle.get_tensor(k).astype(np.float32) for k in handle.keys()}
    except Exception as error:  # noqa: BLE001 - safetensors raises several types for damaged files
        raise EngineUnavailableError(f"match model {path} is damaged: {str(error).splitlines()[0] if str(error) else error!r}") from None
    if description.get("format") != FORMAT or description.get("version") != VERSION:
        raise EngineUnavailableError(f"{path} is not an sfx contrastive model of version {VERSION}")
    return MatchModel(weights, description, path)
