"""The match model as a torch network: what training optimises, and what runs models numpy cannot.

- the label's sentence embedding becomes a query token; the imitation's frame
  sequence (after a small convolution) is what it attends over (cross-modal
  attention), with a residual and a feed-forward block: the *fused* query;
- two-layer MLPs project the fused query and the sound's features into a
  shared, L2-normalised space; ``logit_scale`` is the learned temperature of
  the InfoNCE loss that ``sfx train contrastive`` trains it with
  (``training/losses.py``).

A query may lack its label (a learned "no label" token asks instead) or its
imitation (the attention is skipped). ``sfxcli.match.model`` is the same
forward pass in numpy; ``TorchMatchModel`` serves models whose imitation
encoder carries trained layers of its own (``unfreeze_top``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from sfxcli.errors import EngineUnavailableError
from sfxcli.match.features import CONTOUR_DIM, IMITATION_DIM, SOUND_DIM
from sfxcli.match.model import FORMAT, VERSION


@dataclass(frozen=True)
class ModelConfig:
    text_encoder: str = "minilm"  # which encoders made the inputs (see sfxcli.match.encoders)
    imitation_encoder: str = "contours"
    sound_encoder: str = "features"
    text_dim: int = 384
    imitation_dim: int = CONTOUR_DIM
    sound_dim: int = SOUND_DIM
    width: int = 128
    heads: int = 4
    embed_dim: int = 128
    dropout: float = 0.3
    unfreeze_top: int = 0  # top layers of a wav2vec2 imitation encoder trained with the model


class ContrastiveModel(nn.Module):
    def __init__(self, config: ModelConfig, top: nn.Module | None = None) -> None:
        super().__init__()
        self.config = config
        self.imitation_top = top  # the unfrozen top of the imitation encoder, or None
        w = config.width
        # input normalisation, fitted to the training data before training
        self.register_buffer("imitation_mean", torch.zeros(config.imitation_dim))
        self.register_buffer("imitation_std", torch.ones(config.imitation_dim))
        self.register_buffer("sound_mean", torch.zeros(config.sound_dim))
        self.register_buffer("sound_std", torch.ones(config.sound_dim))
        self.text_in = nn.Linear(config.text_dim, w)
        self.no_label = nn.Parameter(torch.randn(w) * 0.02)
        self.imitation_in = nn.Linear(config.imitation_dim, w)
        self.imitation_conv = nn.Conv1d(w, w, kernel_size=5, padding=2)
        self.attention = nn.MultiheadAttention(w, config.heads, dropout=config.dropout, batch_first=True)
        self.norm1 = nn.LayerNorm(w)
        self.feed_forward = nn.Sequential(nn.Linear(w, 2 * w), nn.GELU(), nn.Dropout(config.dropout), nn.Linear(2 * w, w))
        self.norm2 = nn.LayerNorm(w)
        self.query_projection = nn.Sequential(nn.Linear(w, w), nn.GELU(), nn.Linear(w, config.embed_dim))
        self.sound_projection = nn.Sequential(nn.Linear(config.sound_dim, 2 * w), nn.GELU(), nn.Dropout(config.dropout),
                                              nn.Linear(2 * w, config.embed_dim))
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))

    def encode_query(self, text: torch.Tensor, has_text: torch.Tensor, frames: torch.Tensor,
                     frame_mask: torch.Tensor) -> torch.Tensor:
        """text (B, text_dim), has_text (B,) bool, frames (B, T, imitation_dim), frame_mask (B, T) True = real frame."""
        query = torch.where(has_text[:, None], self.text_in(text), self.no_label.expand(len(text), -1))[:, None, :]
        if self.imitation_top is not None:
            frames = self.imitation_top(frames, frame_mask)
        x = self.imitation_in((frames - self.imitation_mean) / self.imitation_std) * frame_mask[..., None]
        x = x + F.gelu(self.imitation_conv(x.transpose(1, 2))).transpose(1, 2)
        has_frames = frame_mask.any(dim=1)
        # rows without an imitation attend to a dummy frame; their attention output is then dropped
        mask = frame_mask.clone()
        mask[~has_frames, 0] = True
        attended, _ = self.attention(query, x, x, key_padding_mask=~mask, need_weights=False)
        attended = attended * has_frames[:, None, None]
        fused = self.norm1(query + attended)
        fused = self.norm2(fused + self.feed_forward(fused))[:, 0]
        return F.normalize(self.query_projection(fused), dim=-1)

    def encode_sound(self, sound: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.sound_projection((sound - self.sound_mean) / self.sound_std), dim=-1)


def pad_frames(sequences: list[Any], dim: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Batch variable-length (T, D) numpy sequences into (B, T, D) and a (B, T) mask; None = no imitation.

    ``dim`` is needed only when no sequence is given.
    """
    import numpy as np

    dim = next((s.shape[1] for s in sequences if s is not None and len(s)), dim or IMITATION_DIM)
    length = max([len(s) for s in sequences if s is not None] + [1])
    out = np.zeros((len(sequences), length, dim), dtype=np.float32)
    mask = np.zeros((len(sequences), length), dtype=bool)
    for i, s in enumerate(sequences):
        if s is not None and len(s):
            n = min(len(s), length)
            out[i, :n] = s[:n]
            mask[i, :n] = True
    return torch.from_numpy(out), torch.from_numpy(mask)


def load_network(path: Path) -> tuple[ContrastiveModel, dict[str, Any]]:
    """A model written by ``sfx train contrastive``, as a torch network; refuses other files with a clear message."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as handle:
            meta = json.loads((handle.metadata() or {}).get("sfx", "{}"))
            state = {k: handle.get_tensor(k) for k in handle.keys()}
    except Exception as error:  # noqa: BLE001 - safetensors raises several types for damaged files
        raise EngineUnavailableError(f"{path} is not a readable model file: "
                                     f"{str(error).splitlines()[0] if str(error) else error!r}") from None
    if meta.get("format") != FORMAT or meta.get("version") != VERSION:
        raise EngineUnavailableError(f"{path} is not an sfx contrastive model of version {VERSION}")
    config = ModelConfig(**meta["model"])
    top = None
    if config.unfreeze_top:
        from sfxcli.match.encoders import top_layers

        top = top_layers(meta["encoders"]["imitation"], config.unfreeze_top)
    model = ContrastiveModel(config, top)
    try:
        model.load_state_dict(state)
    except RuntimeError as error:
        raise EngineUnavailableError(f"{path} does not fit its own description: {str(error).splitlines()[0]}") from None
    return model.eval(), meta


class TorchMatchModel:
    """The run-time interface of ``sfxcli.match.model.MatchModel`` for models numpy cannot run
    (those that carry unfrozen encoder layers)."""

    def __init__(self, path: Path) -> None:
        self.model, self.description = load_network(path)
        self.path = path
        self.weights = {k: v.detach().numpy() for k, v in self.model.state_dict().items()}

    @property
    def encoders(self) -> dict[str, str]:
        return dict(self.description["encoders"])

    def query(self, text: Any, frames: Any) -> Any:
        import numpy as np

        dim = self.model.config.imitation_dim
        padded, mask = pad_frames([frames if frames is not None and len(frames) else None], dim)
        vector = torch.from_numpy(np.zeros((1, self.model.config.text_dim), np.float32) if text is None
                                  else np.asarray(text, np.float32)[None])
        with torch.no_grad():
            return self.model.encode_query(vector, torch.tensor([text is not None]), padded, mask).numpy()[0]

    def sounds(self, vectors: Any) -> Any:
        import numpy as np

        with torch.no_grad():
            return self.model.encode_sound(torch.from_numpy(np.atleast_2d(vectors).astype(np.float32))).numpy()
