"""The FX estimator at inference: (dry, effected) or the effected sound alone -> a chain setting, in numpy.

The network (trained by ``training/fx.py``, which holds its torch twin):

1. a frame encoder, the encoder half of a beta-VAE pretrained on log-mel
   frames: each 11.6 ms frame of both sounds -> its latent mean;
2. per frame, both latents, the band-by-band difference of the two spectra
   and both frame levels (the dry ones zero when there is no dry sound, with a
   flag saying so), through four dilated 1-D convolutions (receptive field
   0.7 s: long enough to hear a reverb tail or a compressor's release);
3. mean and max over time, then an MLP with a sigmoid: the setting ``u`` in
   [0, 1]^d of the chain the model was trained for.

Sounds are analysed in SEGMENT_SECONDS windows (what training saw: 1.5 s of
sound and 0.5 s of tail); a longer sound is cut into half-overlapping
windows, silent ones skipped, and the settings averaged weighted by each
window's energy. The model file is ``safetensors`` with a JSON description
(chain, sizes) in its metadata, so loading needs neither torch nor the code
that trained it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sfxcli.errors import NoEstimatorError
from sfxcli.fxmatch.chain import Chain, parse_chain
from sfxcli.fxmatch.distance import MEL_BANDS, log_mel_db
from sfxcli.match.features import RATE
from sfxcli.settings import DATA_DIR

MODEL_FORMAT = 1
SHIPPED_DIR = DATA_DIR / "fx"
SEGMENT_SECONDS = 2.0
LEVEL_DBFS = -20.0  # RMS the dry sound is brought to before the chain (training's level)
CONV_DILATIONS = (1, 2, 4, 8)
CONV_KERNEL = 5
MEL_CENTRE_DB, MEL_SCALE_DB = -70.0, 30.0
LEVEL_CENTRE_DB, LEVEL_SCALE_DB = -50.0, 20.0


def input_dim(latent_dim: int) -> int:
    """Per-frame input width of the temporal network."""
    return 2 * latent_dim + MEL_BANDS + 3


def scaled_mel(audio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(frames, MEL_BANDS) log-mel frames and (frames,) frame levels, both scaled to about -1..2."""
    db = log_mel_db(audio)
    level = 10 * np.log10(np.maximum(np.sum(10 ** (db / 10), axis=1), 1e-10))
    mel = np.clip((db - MEL_CENTRE_DB) / MEL_SCALE_DB, -1.0, 2.5)
    return mel.astype(np.float32), ((level - LEVEL_CENTRE_DB) / LEVEL_SCALE_DB).astype(np.float32)


def rms_dbfs(audio: np.ndarray) -> float:
    rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))) if audio.size else 0.0
    return 20 * np.log10(rms) if rms > 0 else -np.inf


def at_level(audio: np.ndarray, dbfs: float) -> np.ndarray:
    level = rms_dbfs(audio)
    return audio * 10 ** ((dbfs - level) / 20) if np.isfinite(level) else audio


def frame_parts(effected: np.ndarray, dry: np.ndarray | None) -> dict[str, np.ndarray]:
    """What the network sees of one segment, before the frame encoder: both sounds' scaled mel frames and levels.

    ``dry`` (same length) is brought to LEVEL_DBFS and ``effected`` to the
    dry's level, as in training; without a dry sound the effected one is
    brought to LEVEL_DBFS alone and the dry parts are zeros.
    """
    if dry is not None:
        dry = at_level(np.asarray(dry, dtype=np.float64), LEVEL_DBFS)
    effected = at_level(np.asarray(effected, dtype=np.float64), LEVEL_DBFS)
    mel_e, level_e = scaled_mel(effected)
    if dry is None:
        return {"mel_e": mel_e, "level_e": level_e, "mel_d": np.zeros_like(mel_e), "level_d": np.zeros_like(level_e),
                "has_dry": np.zeros(1, np.float32)}
    mel_d, level_d = scaled_mel(dry)
    return {"mel_e": mel_e, "level_e": level_e, "mel_d": mel_d, "level_d": level_d, "has_dry": np.ones(1, np.float32)}


def segments(effected: np.ndarray, dry: np.ndarray | None, seconds: float = SEGMENT_SECONDS
             ) -> list[tuple[np.ndarray, np.ndarray | None, float]]:
    """Half-overlapping windows of both sounds (aligned), each with its weight (energy); silent ones left out."""
    n = int(seconds * RATE)
    length = max(len(effected), len(dry) if dry is not None else 0, n)
    effected = np.pad(effected, (0, length - len(effected)))
    if dry is not None:
        dry = np.pad(dry, (0, length - len(dry)))
    starts = list(range(0, length - n + 1, n // 2))
    if starts[-1] != length - n:
        starts.append(length - n)
    energies = np.array([float(np.sum(effected[s:s + n] ** 2)) for s in starts])
    keep = energies >= energies.max() * 10 ** (-40 / 10)
    return [(effected[s:s + n], None if dry is None else dry[s:s + n], float(e))
            for s, e, k in zip(starts, energies, keep) if k]


@dataclass(frozen=True)
class EstimatorInfo:
    chain: str
    latent_dim: int
    channels: int
    hidden: int
    steps: int = 0
    evaluation: str = ""  # JSON of the held-out figures at export


class Estimator:
    """A trained estimator's weights, run in numpy."""

    def __init__(self, weights: dict[str, np.ndarray], info: EstimatorInfo, path: Path | None = None) -> None:
        self.w = {k: np.asarray(v, dtype=np.float32) for k, v in weights.items()}
        self.info = info
        self.chain: Chain = parse_chain(info.chain)
        self.path = path

    def encode_frames(self, mel: np.ndarray) -> np.ndarray:
        """The beta-VAE encoder's latent means of (frames, MEL_BANDS) scaled mel frames."""
        hidden = np.tanh(mel @ self.w["vae.enc1.weight"].T + self.w["vae.enc1.bias"])
        return hidden @ self.w["vae.mu.weight"].T + self.w["vae.mu.bias"]

    def frame_inputs(self, parts: dict[str, np.ndarray]) -> np.ndarray:
        """(frames, input_dim) per-frame inputs of the temporal network."""
        has = parts["has_dry"][0]
        z_e, z_d = self.encode_frames(parts["mel_e"]), self.encode_frames(parts["mel_d"]) * has
        difference = (parts["mel_e"] - parts["mel_d"]) * has
        flag = np.full((len(z_e), 1), has, np.float32)
        return np.concatenate([z_e, z_d, difference, parts["level_e"][:, None], parts["level_d"][:, None], flag],
                              axis=1)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """(frames, input_dim) -> the setting u (d,)."""
        h = x
        for i, dilation in enumerate(CONV_DILATIONS):
            h = np.maximum(_conv1d(h, self.w[f"convs.{i}.weight"], self.w[f"convs.{i}.bias"], dilation), 0.0)
        pooled = np.concatenate([h.mean(axis=0), h.max(axis=0)])
        hidden = np.maximum(pooled @ self.w["head1.weight"].T + self.w["head1.bias"], 0.0)
        logits = hidden @ self.w["head2.weight"].T + self.w["head2.bias"]
        return 1.0 / (1.0 + np.exp(-logits))

    def estimate(self, effected: np.ndarray, dry: np.ndarray | None = None) -> np.ndarray:
        """The setting that makes ``dry`` (or, without it, any dry sound) sound processed like ``effected`` (at RATE)."""
        settings, weights = [], []
        for effected_part, dry_part, energy in segments(effected, dry):
            settings.append(self.forward(self.frame_inputs(frame_parts(effected_part, dry_part))))
            weights.append(energy)
        return np.average(np.array(settings), axis=0, weights=np.array(weights))


def _conv1d(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, dilation: int) -> np.ndarray:
    """'Same'-padded dilated 1-D convolution: x (frames, in), weight (out, in, kernel) -> (frames, out)."""
    kernel = weight.shape[2]
    pad = dilation * (kernel - 1) // 2
    padded = np.pad(x, ((pad, pad), (0, 0)))
    taps = np.stack([padded[k * dilation: k * dilation + len(x)] for k in range(kernel)], axis=2)  # (frames, in, k)
    return np.einsum("tik,oik->to", taps, weight) + bias


def shipped_chains() -> list[str]:
    """The chains an estimator ships for."""
    return sorted(p.stem.removeprefix("estimator-").replace("-", ",") for p in SHIPPED_DIR.glob("estimator-*.safetensors"))


def shipped_path(chain: str) -> Path:
    return SHIPPED_DIR / f"estimator-{chain.replace(',', '-')}.safetensors"


def load_estimator(path: Path) -> Estimator:
    """An estimator from a ``.safetensors`` file written by ``sfx train fx`` (or shipped)."""
    from safetensors import SafetensorError
    from safetensors.numpy import load_file
    from safetensors import safe_open

    if not path.is_file():
        raise NoEstimatorError(f"no FX estimator at {path}")
    try:
        with safe_open(str(path), framework="np") as handle:
            meta = json.loads((handle.metadata() or {}).get("sfx_fx", "{}"))
        weights = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as error:
        raise NoEstimatorError(f"{path} is not an FX estimator: {error}",
                               "train one with `sfx train fx`") from None
    if meta.get("format") != MODEL_FORMAT:
        raise NoEstimatorError(f"{path} is not an FX estimator of format {MODEL_FORMAT}",
                               "train one with `sfx train fx`")
    info = EstimatorInfo(**{k: meta[k] for k in ("chain", "latent_dim", "channels", "hidden", "steps", "evaluation")})
    return Estimator(weights, info, path)


def estimator_for(chain: Chain, model: Path | None = None) -> Estimator:
    """The estimator a user asked for (``--model``), else the shipped one for this chain."""
    if model is not None:
        estimator = load_estimator(model if model.suffix == ".safetensors" else model / "estimator.safetensors")
        if estimator.chain.name != chain.name:
            raise NoEstimatorError(f"{estimator.path} estimates chain {estimator.chain.name}, not {chain.name}",
                                   f"pass --chain {estimator.chain.name}, or train one for {chain.name}")
        return estimator
    path = shipped_path(chain.name)
    if not path.is_file():
        raise NoEstimatorError(f"no estimator ships for chain {chain.name} (shipped: {'; '.join(shipped_chains()) or 'none'})")
    return load_estimator(path)
