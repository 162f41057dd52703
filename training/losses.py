"""Losses of the training routines that are not stable-audio-tools' own."""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F


def info_nce(queries: torch.Tensor, sounds: torch.Tensor, logit_scale: torch.Tensor) -> torch.Tensor:
    """Symmetric InfoNCE: row i of each is a positive pair, every other row a negative.

    ``logit_scale`` is the log of the inverse temperature, learned with the
    model and capped at log(100) as in CLIP.
    """
    logits = logit_scale.clamp(max=math.log(100)).exp() * queries @ sounds.T
    targets = torch.arange(len(queries), device=queries.device)
    return (F.cross_entropy(logits, targets) + F.cross_entropy(logits.T, targets)) / 2
