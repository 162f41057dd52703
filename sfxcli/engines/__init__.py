"""Engines turn control curves and a recipe into dry audio.

The embedded engine is pure numpy and always available; engines that need
model weights register here too and explain in ``available()`` why they
cannot run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from sfxcli.analysis import Controls
from sfxcli.errors import EngineUnavailableError
from sfxcli.presets import Recipe


@dataclass(frozen=True)
class Render:
    """Dry audio from an engine plus the parameters it drew (for the sidecar)."""

    audio: np.ndarray  # mono float64
    sample_rate: int
    params: dict[str, Any] = field(default_factory=dict)


class Engine(Protocol):
    name: str

    def render(self, controls: Controls, recipe: Recipe, seed: int, sample_rate: int,
               duration_seconds: float) -> Render: ...


def engine_names() -> list[str]:
    return ["embedded"]


def availability() -> dict[str, tuple[bool, str]]:
    """Each engine: whether it can run here, and why (for ``sfx doctor``)."""
    return {"embedded": (True, "built in: numpy synthesis, runs on any CPU, no weights")}


def get_engine(name: str) -> Engine:
    if name == "embedded":
        from sfxcli.engines.embedded import EmbeddedEngine

        return EmbeddedEngine()
    raise EngineUnavailableError(f"unknown engine {name!r}; available: {', '.join(engine_names())}")
