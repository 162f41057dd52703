"""The Stable Audio Open engine: stable-audio-tools models, loaded once, conditioned on the imitation.

- ``model``: model specs (debug, a folder, a hub id), finding and checking
  the files, building, loading onto a device, saving a model folder;
- ``debug``: the tiny random-weight debug model's config;
- ``sampling``: prompts, sketches, sampler settings and the ``SaoEngine``
  that renders a request's candidates as batches;
- ``adapter``: the Sketch2Sound-style controls adapter (the take's curves
  added to the model's input latents).

torch and stable-audio-tools are imported only when a model is loaded.
"""

from __future__ import annotations

from sfxcli.engines.sao.model import (DEFAULT_MODEL, LoadedModel, ModelSource, availability, default_model,
                                      load_model, parse_model_spec, quiet_stable_audio, save_model,
                                      save_model_folder)
from sfxcli.engines.sao.sampling import MAX_BATCH, SaoEngine, generate, sampler_settings

__all__ = ["DEFAULT_MODEL", "MAX_BATCH", "LoadedModel", "ModelSource", "SaoEngine", "availability", "default_model",
           "generate", "load_model", "parse_model_spec", "quiet_stable_audio", "sampler_settings", "save_model",
           "save_model_folder"]
