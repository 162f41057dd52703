"""The contrastive model: label + imitation -> one query vector, sound -> one vector, in one space.

- the label's sentence embedding becomes a query token; the imitation's frame
  sequence (after a small convolution) is what it attends over (cross-modal
  attention), with a residual and a feed-forward block: the *fused* query;
- two-layer MLPs project the fused query and the sound's features into a
  shared, L2-normalised space;
- a symmetric InfoNCE loss with a learned temperature pulls each query to its
  own sound and away from the rest of the batch.

A query may lack its label (a learned "no label" token asks instead) or its
imitation (the attention is skipped); training drops each at random so all
three kinds of query work.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from sfxcli.features import CONTOUR_DIM, IMITATION_DIM, SOUND_DIM

MODEL_FORMAT = "sfx-contrastive"
MODEL_VERSION = 1


@dataclass(frozen=True)
class ModelConfig:
    text_encoder: str = "minilm"  # which encoders made the inputs (see training.encoders)
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

    def loss(self, queries: torch.Tensor, sounds: torch.Tensor) -> torch.Tensor:
        """Symmetric InfoNCE: row i of each is a positive pair, every other row a negative."""
        logits = self.logit_scale.clamp(max=math.log(100)).exp() * queries @ sounds.T
        targets = torch.arange(len(queries), device=queries.device)
        return (F.cross_entropy(logits, targets) + F.cross_entropy(logits.T, targets)) / 2


def fit_normalisation(model: ContrastiveModel, frames: list[Any], sounds: Any) -> None:
    """Set the input means and spreads from training features (numpy arrays)."""
    import numpy as np

    stacked = np.concatenate([f for f in frames if len(f)], axis=0)
    with torch.no_grad():
        model.imitation_mean.copy_(torch.from_numpy(stacked.mean(axis=0)))
        model.imitation_std.copy_(torch.from_numpy(np.maximum(stacked.std(axis=0), 1e-3)))
        model.sound_mean.copy_(torch.from_numpy(sounds.mean(axis=0)))
        model.sound_std.copy_(torch.from_numpy(np.maximum(sounds.std(axis=0), 1e-3)))


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
