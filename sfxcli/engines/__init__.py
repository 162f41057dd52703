"""Engines turn control curves and a recipe into dry audio.

- ``base``: ``Render`` and the ``Engine`` protocol every engine meets;
- ``embedded``: numpy synthesis from recipes, always available;
- ``library``: real recordings from a library folder, bent to the take;
- ``sao``: Stable Audio Open, when its weights are at hand;
- ``choice``: which engine serves a request, and how its output is finished.

This face lists the engines and says whether each can run here (for
``sfx doctor``); engines never import it.
"""

from __future__ import annotations

from sfxcli.engines.base import BatchEngine, Engine, Render
from sfxcli.errors import EngineUnavailableError

__all__ = ["BatchEngine", "ENGINES", "Engine", "Render", "availability"]

ENGINES = ("embedded", "library", "sao")


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
    from sfxcli.match import load

    try:
        model = load()
    except EngineUnavailableError as error:
        return False, f"{error.message}: results are ranked by following alone, `sfx search` cannot run"
    evaluation = model.description.get("evaluation", {})
    score = f", held-out fused MRR {evaluation['fused_mrr']:.2f}" if "fused_mrr" in evaluation else ""
    return True, f"{model.path} ({', '.join(f'{k} {v}' for k, v in model.encoders.items())}{score})"
