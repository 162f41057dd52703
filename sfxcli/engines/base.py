"""What every engine is: controls and a recipe in, dry audio out.

Engines import this module, never the package face (``sfxcli.engines``),
so the face can list and describe them without an import circle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Protocol, runtime_checkable

import numpy as np

from sfxcli.analysis import Controls
from sfxcli.presets import Recipe


@dataclass(frozen=True)
class Render:
    """Dry audio from an engine plus the parameters it drew (for the sidecar)."""

    audio: np.ndarray  # float64, (samples,) mono or (samples, channels)
    sample_rate: int
    params: dict[str, Any] = field(default_factory=dict)
    attacks_seconds: tuple[float, ...] = ()  # where recorded attacks sit in the audio (finishing spares them)


class Engine(Protocol):
    name: str

    def render(self, controls: Controls, recipe: Recipe, seed: int, sample_rate: int,
               duration_seconds: float, channels: int = 1) -> Render: ...


@runtime_checkable
class BatchEngine(Protocol):
    """An engine that renders several candidates in one call (model engines), reporting each sampling step."""

    name: str
    max_batch: int

    def render(self, controls: Controls, recipe: Recipe, seed: int, sample_rate: int,
               duration_seconds: float, channels: int = 1) -> Render: ...

    def render_batch(self, controls: Controls, recipe: Recipe, seeds: list[int], sample_rate: int,
                     duration_seconds: float, on_step: Callable[[int, int], None] | None = None,
                     channels: int = 1) -> list[Render]: ...
