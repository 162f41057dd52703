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
    return ["embedded", "library", "sao"]


def availability() -> dict[str, tuple[bool, str]]:
    """Each engine: whether it can run here, and why (for ``sfx doctor``)."""
    from importlib.util import find_spec

    from sfxcli.library.embed import VOCAB_FILE
    from sfxcli.library.store import DEFAULT_LIBRARY, SHIPPED_VECTORS

    shipped = sum(1 for _ in DEFAULT_LIBRARY.glob("*.ogg"))
    meaning = ("label meaning from the shipped sentence vectors" if VOCAB_FILE.is_file() and SHIPPED_VECTORS.is_file()
               else "label matching on words and UCS synonyms only (sentence vectors missing)")
    indexing = ("your libraries get sentence vectors at `sfx library index`" if find_spec("torch") and find_spec("transformers")
                else "install torch and transformers to give your libraries sentence vectors")
    from sfxcli.engines.sao import availability as sao_availability

    return {
        "embedded": (True, "built in: numpy synthesis, runs on any CPU, no weights"),
        "library": (shipped > 0, f"{shipped} built-in recordings; {meaning}; {indexing}"),
        "sao": sao_availability(),
        "match model": _match_model(),
    }


def _match_model() -> tuple[bool, str]:
    """The contrastive model that ranks results and drives ``sfx search`` (not an engine, but used by all)."""
    from sfxcli.similarity import load

    try:
        model = load()
    except EngineUnavailableError as error:
        return False, f"{error.message}: results are ranked by following alone, `sfx search` cannot run"
    evaluation = model.description.get("evaluation", {})
    score = f", held-out fused MRR {evaluation['fused_mrr']:.2f}" if "fused_mrr" in evaluation else ""
    return True, f"{model.path} ({', '.join(f'{k} {v}' for k, v in model.encoders.items())}{score})"


def get_engine(name: str) -> Engine:
    if name == "embedded":
        from sfxcli.engines.embedded import EmbeddedEngine

        return EmbeddedEngine()
    if name in ("library", "sao"):
        raise EngineUnavailableError(f"the {name} engine is built per request")
    raise EngineUnavailableError(f"unknown engine {name!r}; available: {', '.join(engine_names())}")
