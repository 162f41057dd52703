"""The match model at run time: how well a sound matches "this imitation, called this".

One model embeds a query (a label, an imitation, or both) and sounds into one
space; the cosine between them is the *match*. It ranks ``sfx gen``'s
candidates, re-orders the library engine's best label hits by the take, and
drives ``sfx search``.

- ``model``: the numpy forward pass and loading (no torch);
- ``network``: the same model as a torch network (training, and models with
  trained encoder layers);
- ``encoders``: the frozen text, imitation and sound encoders, by name;
- ``features``: the offline audio features the default encoders compute.

``training/`` builds on this package; nothing here imports training code.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sfxcli.errors import EngineUnavailableError
from sfxcli.match.model import SHIPPED, MatchModel, model_path, read_model

if TYPE_CHECKING:
    from sfxcli.match.embedding import Statistics

__all__ = ["LIKENESS_WEIGHT", "SHIPPED", "MatchModel", "Query", "Unavailable", "encode_query", "imitation_frames",
           "likeness_scores", "load", "match_scores", "model_path", "model_scores", "query_vector", "sound_features",
           "take_likeness", "text_vector"]


def load(path: Path | None = None) -> MatchModel:
    """The match model (shipped, or the ``match_model`` setting), ready to run; a clear error when missing."""
    model = read_model(path or model_path())
    if model.description["model"].get("unfreeze_top"):  # trained encoder layers: numpy cannot run them
        return _torch_twin(model.path)
    return model


@lru_cache(maxsize=2)
def _torch_twin(path: Path) -> MatchModel:
    from sfxcli.match.network import TorchMatchModel

    return TorchMatchModel(path)  # type: ignore[return-value]


def text_vector(model: MatchModel, label: str | None) -> np.ndarray | None:
    """The label as the model's text encoder sees it; None when it has no known word."""
    if not label or not label.strip():
        return None
    name = model.encoders["text"]
    if name == "minilm-words":
        from sfxcli.library.embed import word_vector

        return word_vector(label)
    from sfxcli.match.encoders import text_encoder

    return text_encoder(name).encode([label])[0]


def imitation_frames(model: MatchModel, samples: np.ndarray, sample_rate: int) -> np.ndarray:
    from sfxcli.match.encoders import imitation_encoder

    top = int(model.description["model"].get("unfreeze_top", 0))
    return imitation_encoder(model.encoders["imitation"], top).encode(samples, sample_rate)


def sound_features(model: MatchModel, samples: np.ndarray, sample_rate: int) -> np.ndarray:
    from sfxcli.match.encoders import sound_encoder

    return sound_encoder(model.encoders["sound"]).encode(samples, sample_rate)


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


LIKENESS_WEIGHT = 2.0  # the likeness beside the learned cosine; chosen by leave-one-out on the real imitations
                       # (bench/contrastive.py: 0, 0.5, 1, 2, 4, 8, 16 and the likeness alone, each fold chose 2)


def take_likeness(audio: tuple[np.ndarray, int] | None, stats: Statistics | None = None) -> np.ndarray | None:
    """The take's standardised audio embedding (``embedding``), or None without a take or with the setting off."""
    from sfxcli.match import embedding

    if audio is None or not embedding.enabled():
        return None
    return embedding.standardise(embedding.embed(*audio), stats)


def likeness_scores(likeness: np.ndarray | None, embeddings: np.ndarray | None,
                    stats: Statistics | None = None) -> np.ndarray | float:
    """LIKENESS_WEIGHT x the cosine of each sound's standardised embedding with the take's; 0 without either.

    ``stats`` must be those the take was standardised with (default: the built-in library's)."""
    if likeness is None or embeddings is None:
        return 0.0
    from sfxcli.match.embedding import standardise

    return LIKENESS_WEIGHT * (standardise(embeddings, stats) @ likeness)


@dataclass(frozen=True)
class Query:
    """The loaded model and one request's query, encoded once: score any number of sounds against it.

    ``sfx gen`` ranks its variations and re-orders the library engine's label
    hits with the learned match alone: the likeness (``match_scores``) was
    chosen and measured for retrieval among real recordings (``sfx search``),
    not for choosing between renders or between recordings of one label.
    """

    model: MatchModel
    vector: np.ndarray

    def features(self, samples: np.ndarray, sample_rate: int) -> np.ndarray:
        return sound_features(self.model, samples, sample_rate)

    def scores(self, features: np.ndarray) -> np.ndarray:
        return self.model.sounds(features) @ self.vector


@dataclass(frozen=True)
class Unavailable:
    """Why a request has no match model: results are then ranked by following alone."""

    reason: str


def encode_query(label: str | None, audio: tuple[np.ndarray, int] | None) -> Query | Unavailable:
    """This request's query, or why there is none (no model, or nothing it can read in the query)."""
    try:
        model = load()
        return Query(model, query_vector(model, label, audio))
    except EngineUnavailableError as error:
        return Unavailable(error.message)


EXAMPLE_WEIGHT = 1.0  # what a sound that is feature for feature the query audio gains (query by example)
EXAMPLE_SHARPNESS = 0.05  # ... falling by e for every 0.05 of standardised feature cosine below 1


def match_scores(model: MatchModel, label: str | None, audio: tuple[np.ndarray, int] | None,
                 features: np.ndarray, embeddings: np.ndarray | None = None) -> np.ndarray:
    """Score of each sound (rows of ``features``) for the query: model cosine, likeness, and query by example.

    The learned part compares "this imitation, called this" with each sound;
    with the sounds' audio ``embeddings`` (and the setting on), the likeness
    of each to the query audio is added (``likeness_scores``); the example
    part, exp((cosine - 1) / EXAMPLE_SHARPNESS) of standardised
    features, is near zero for everything but sounds almost identical to the
    query audio, so a query that is itself a recording, or a copy of one,
    finds its twin first.
    """
    scores = model_scores(model, label, audio, features)
    if embeddings is not None and len(features):
        from sfxcli.match.embedding import statistics

        stats = statistics(embeddings)  # a library is searched by what sets its sounds apart from each other
        scores = scores + likeness_scores(take_likeness(audio, stats), embeddings, stats)
    if audio is not None and len(features):
        mean, std = model.weights["sound_mean"], model.weights["sound_std"]
        library = (features - mean) / std
        query = (sound_features(model, *audio) - mean) / std
        norms = np.linalg.norm(library, axis=1) * max(float(np.linalg.norm(query)), 1e-12)
        likeness = (library @ query) / np.maximum(norms, 1e-12)
        scores = scores + EXAMPLE_WEIGHT * np.exp((likeness - 1.0) / EXAMPLE_SHARPNESS)
    return scores
