"""How well a sound matches "this imitation, called this": the contrastive model at run time, in numpy.

The model is trained with torch (``sfx train contrastive``, ``training/``);
running it needs only its weights, read with ``safetensors.numpy``, so
``sfx gen`` ranks its variations and ``sfx search`` finds sounds without
importing torch. ``tests/test_contrastive.py`` checks this forward pass
against the torch one.

The shipped model lives in ``sfxcli/data/contrastive/``; ``$SFX_MATCH_MODEL``
points at another ``model.safetensors`` (a run of your own).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from sfxcli.errors import EngineUnavailableError

SHIPPED = Path(__file__).resolve().parent / "data" / "contrastive" / "model.safetensors"
FORMAT = "sfx-contrastive"
VERSION = 1


def model_path() -> Path:
    configured = os.environ.get("SFX_MATCH_MODEL")
    return Path(configured).expanduser() if configured else SHIPPED


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
def load(path: Path | None = None) -> MatchModel:
    """The match model (shipped, or ``$SFX_MATCH_MODEL``); a clear error when missing or not ours."""
    from safetensors import safe_open

    path = path or model_path()
    if not path.is_file():
        raise EngineUnavailableError(f"no match model at {path}",
                                     "train one with `sfx train contrastive`, or unset SFX_MATCH_MODEL")
    try:
        with safe_open(str(path), framework="numpy") as handle:
            description = json.loads((handle.metadata() or {}).get("sfx", "{}"))
            weights = {k: handle.get_tensor(k).astype(np.float32) for k in handle.keys()}
    except Exception as error:  # noqa: BLE001 - safetensors raises several types for damaged files
        raise EngineUnavailableError(f"match model {path} is damaged: {str(error).splitlines()[0] if str(error) else error!r}") from None
    if description.get("format") != FORMAT or description.get("version") != VERSION:
        raise EngineUnavailableError(f"{path} is not an sfx contrastive model of version {VERSION}")
    if description["model"].get("unfreeze_top"):  # trained encoder layers: numpy cannot run them
        from training.contrastive import TorchMatchModel

        return TorchMatchModel(path)  # type: ignore[return-value]
    return MatchModel(weights, description, path)


def text_vector(model: MatchModel, label: str | None) -> np.ndarray | None:
    """The label as the model's text encoder sees it; None when it has no known word."""
    if not label or not label.strip():
        return None
    name = model.encoders["text"]
    if name == "minilm-words":
        from sfxcli.library.embed import word_vector

        return word_vector(label)
    from training.encoders import text_encoder  # model encoders (torch): minilm, clap

    return text_encoder(name).encode([label])[0]


def imitation_frames(model: MatchModel, samples: np.ndarray, sample_rate: int) -> np.ndarray:
    name = model.encoders["imitation"]
    if name in ("features", "contours"):
        from sfxcli.features import contour_frames, imitation_frames as frames

        return (frames if name == "features" else contour_frames)(samples, sample_rate)
    from training.encoders import imitation_encoder

    return imitation_encoder(name, int(model.description["model"].get("unfreeze_top", 0))).encode(samples, sample_rate)


def sound_features(model: MatchModel, samples: np.ndarray, sample_rate: int) -> np.ndarray:
    name = model.encoders["sound"]
    if name == "features":
        from sfxcli.features import sound_vector

        return sound_vector(samples, sample_rate)
    from training.encoders import sound_encoder

    return sound_encoder(name).encode(samples, sample_rate)


EXAMPLE_WEIGHT = 1.0  # what a sound that is feature for feature the query audio gains (query by example)
EXAMPLE_SHARPNESS = 0.05  # ... falling by e for every 0.05 of standardised feature cosine below 1


def query_vector(model: MatchModel, label: str | None, audio: tuple[np.ndarray, int] | None) -> np.ndarray:
    """The unit query vector of "this imitation, called this" (either part may be missing, not both)."""
    text = text_vector(model, label)
    frames = imitation_frames(model, *audio) if audio is not None else None
    if text is None and frames is None:
        raise EngineUnavailableError(f"the label '{label}' has no word the match model knows, and there is no imitation")
    return model.query(text, frames)


def model_scores(model: MatchModel, label: str | None, audio: tuple[np.ndarray, int] | None,
                 features: np.ndarray) -> np.ndarray:
    """The learned cosine of each sound with the query "this imitation, called this"."""
    return model.sounds(features) @ query_vector(model, label, audio)


@dataclass(frozen=True)
class Matcher:
    """The loaded model and one request's query, encoded once: score any number of sounds against it."""

    model: MatchModel
    query: np.ndarray

    def features(self, samples: np.ndarray, sample_rate: int) -> np.ndarray:
        return sound_features(self.model, samples, sample_rate)

    def scores(self, features: np.ndarray) -> np.ndarray:
        return self.model.sounds(features) @ self.query


def matcher(label: str | None, audio: tuple[np.ndarray, int] | None) -> Matcher:
    """Load the match model and encode the query; raises ``EngineUnavailableError`` when either cannot be done."""
    model = load()
    return Matcher(model, query_vector(model, label, audio))


def match_scores(model: MatchModel, label: str | None, audio: tuple[np.ndarray, int] | None,
                 features: np.ndarray) -> np.ndarray:
    """Score of each sound (rows of ``features``) for the query: model cosine, plus likeness to the query audio.

    The learned part compares "this imitation, called this" with each sound;
    the example part, exp((cosine - 1) / EXAMPLE_SHARPNESS) of standardised
    features, is near zero for everything but sounds almost identical to the
    query audio, so a query that is itself a recording, or a copy of one,
    finds its twin first.
    """
    scores = model_scores(model, label, audio, features)
    if audio is not None and len(features):
        mean, std = model.weights["sound_mean"], model.weights["sound_std"]
        library = (features - mean) / std
        query = (sound_features(model, *audio) - mean) / std
        norms = np.linalg.norm(library, axis=1) * max(float(np.linalg.norm(query)), 1e-12)
        likeness = (library @ query) / np.maximum(norms, 1e-12)
        scores = scores + EXAMPLE_WEIGHT * np.exp((likeness - 1.0) / EXAMPLE_SHARPNESS)
    return scores
