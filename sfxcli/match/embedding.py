"""How much a sound sounds like the take, zero-shot: a pretrained sound-effects audio embedding.

The match model learns "imitation, called this" against sounds from
synthetic imitations only, and on real human takes it ranks the right sound
poorly. A network pretrained on real sound-effects libraries hears more of
what a voice shares with the sound it imitates. sfx uses aisfx (Ma and
Lerch, "Representation learning for the automatic indexing of sound effects
libraries", ISMIR 2022; the model CC BY 4.0, as its PyPI wheel's LICENSE
states): a 9-layer CNN over 96-band log-mel spectrograms at 44.1 kHz, one
512-d embedding per 2.3 s block.

- ``spectrogram``: the network's input, as the package computes it
  (peak-normalised audio, HTK mel bands with L1-normalised filters, power,
  log10(1 + 10^4 x), scaled by the package's training maximum), with the
  filterbank shipped precomputed (numpy only);
- ``Embedder.embed``: the blocks' embeddings (2.3 s, hop 1.16 s), averaged;
- ``standardise``: embeddings as unit vectors after subtracting a mean and
  dividing by a spread (``statistics``: of the library being searched, or
  of the built-in library's recordings, shipped), so that the cosine
  measures what sets one sound apart, not what all share.

The cosine of the standardised take with each standardised sound is the
*likeness*; ``sfxcli.match`` adds it to the learned match. The network runs
in numpy (no torch on the CLI path) with weights converted once from the
aisfx wheel (``python -m sfxcli.match.embedding``) and shipped in
``sfxcli/data/aisfx.npz``; a test checks the twin against the package's
own torch network.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any, Callable

import numpy as np

from sfxcli.errors import EngineUnavailableError
from sfxcli.settings import DATA_DIR

NAME = "aisfx"
DIM = 512
RATE = 44100
N_FFT = 2048
HOP = 1024
MELS = 96
BLOCK = 100  # spectrogram frames per embedding block (2.3 s)
BLOCK_HOP = 50
SPEC_MAX = 9.457798957824707  # the package's normalisation: the largest log-mel value over its training data
DATA_FILE = DATA_DIR / "aisfx.npz"  # filterbank and the built-in library's embedding statistics
INSTALL_HINT = "pip install --no-deps aisfx==0.1.2 (its own version pins are old; sfx needs only its network and weights)"


@lru_cache(maxsize=1)
def _data() -> dict[str, np.ndarray]:
    with np.load(DATA_FILE) as data:
        return {key: data[key] for key in data.files}


def spectrogram(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """(frames, MELS) float32: the network's input for one mono sound."""
    from sfxcli.analysis import resample

    x = resample(np.asarray(samples, dtype=np.float64), sample_rate, RATE)
    peak = float(np.max(np.abs(x))) if len(x) else 0.0
    x = x / peak if peak > 0 else x
    padded = np.pad(x, (N_FFT // 2, N_FFT // 2))  # centred frames, zero padded
    if len(padded) < N_FFT:
        padded = np.pad(padded, (0, N_FFT - len(padded)))
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP]
    window = np.hanning(N_FFT + 1)[:-1]  # periodic Hann
    power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2
    mel = power @ _data()["filters"].T
    return (np.log10(mel * 10000.0 + 1.0) / SPEC_MAX).astype(np.float32)


MAX_BLOCKS = 8  # a longer sound is described by this many blocks spread over it: at most ~0.4 s of numpy per sound


def blocks(spec: np.ndarray) -> np.ndarray:
    """(blocks, BLOCK, MELS): full blocks at BLOCK_HOP (at most MAX_BLOCKS of them, evenly spread); a sound
    shorter than one block is padded with silence."""
    if len(spec) <= BLOCK:
        return np.pad(spec, ((0, BLOCK - len(spec)), (0, 0)))[None]
    starts = np.arange(0, len(spec) - BLOCK + 1, BLOCK_HOP)
    if len(starts) > MAX_BLOCKS:
        starts = np.round(np.linspace(0, len(spec) - BLOCK, MAX_BLOCKS)).astype(int)
    return np.stack([spec[s: s + BLOCK] for s in starts])


def _conv3x3(x: np.ndarray, matrix: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """(batch, h, w, in) -> (batch, h, w, out), channels last: 3x3 convolution, zero padding 1, as one matrix
    product of the nine shifted copies side by side with ``matrix`` (9 * in, out)."""
    b, h, w, c = x.shape
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    columns = np.concatenate([padded[:, dy: dy + h, dx: dx + w, :] for dy in range(3) for dx in range(3)], axis=-1)
    return (columns.reshape(b * h * w, 9 * c) @ matrix + bias).reshape(b, h, w, -1)


def _max_pool(x: np.ndarray) -> np.ndarray:
    """2x2 max pooling of (batch, h, w, channels), the odd last row or column dropped (as torch's max_pool2d)."""
    b, h, w, c = x.shape
    return x[:, : h // 2 * 2, : w // 2 * 2].reshape(b, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))


@dataclass(frozen=True)
class Embedder:
    """The aisfx embedding network in numpy: four blocks of two (convolution, batch norm, ReLU), max pooling
    after the first three, then the mean over frequency and the max over time. Batch norm is folded into
    each convolution's weights and bias (``convert``)."""

    layers: tuple[tuple[np.ndarray, np.ndarray], ...]  # (weight (out, in, 3, 3), bias (out,)) per convolution

    def forward(self, batch: np.ndarray, through_torch: bool = False) -> np.ndarray:
        """(blocks, BLOCK, MELS) spectrogram blocks -> (blocks, DIM); ``through_torch``: the same network through
        torch's convolutions (about 4x faster on a CPU once torch is imported, so for a library, not one take)."""
        if through_torch:
            return self._forward_torch(batch)
        x = batch[:, :, :, None].astype(np.float32)  # (blocks, time, mel, channels)
        for index, (matrix, bias) in enumerate(self._matrices):
            x = np.maximum(_conv3x3(x, matrix, bias), 0.0)
            if index % 2 == 1 and index < len(self.layers) - 1:
                x = _max_pool(x)
        return x.mean(axis=2).max(axis=1)

    @cached_property
    def _matrices(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Each convolution's weight as a (3 * 3 * in, out) matrix, in the order ``_conv3x3`` lays out its input."""
        return [(np.ascontiguousarray(w.transpose(2, 3, 1, 0).reshape(-1, len(w))), b) for w, b in self.layers]

    def _forward_torch(self, batch: np.ndarray) -> np.ndarray:
        import torch
        import torch.nn.functional as F

        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32))[:, None]
            for index, (weight, bias) in enumerate(self.layers):
                x = F.relu(F.conv2d(x, torch.from_numpy(weight), torch.from_numpy(bias), padding=1))
                if index % 2 == 1 and index < len(self.layers) - 1:
                    x = F.max_pool2d(x, 2)
            return x.mean(dim=3).amax(dim=2).numpy()

    def embed(self, samples: np.ndarray, sample_rate: int, through_torch: bool = False) -> np.ndarray:
        """(DIM,) float32: the mean of the sound's block embeddings."""
        batch = blocks(spectrogram(samples, sample_rate))
        return self.forward(batch, through_torch).mean(axis=0).astype(np.float32)


@lru_cache(maxsize=1)
def load_embedder() -> Embedder:
    """The network with the weights shipped in sfx (converted from the aisfx wheel's checkpoint)."""
    data = _data()
    if "conv0_weight" not in data:
        raise EngineUnavailableError(f"{DATA_FILE} holds no embedding weights", "run `python -m sfxcli.match.embedding`")
    layers = tuple((data[f"conv{i}_weight"].astype(np.float32), data[f"conv{i}_bias"].astype(np.float32))
                   for i in range(CONVOLUTIONS))
    return Embedder(layers)


CONVOLUTIONS = 8


def embed(samples: np.ndarray, sample_rate: int, through_torch: bool = False) -> np.ndarray:
    return load_embedder().embed(samples, sample_rate, through_torch)


TORCH_AFTER = 20  # new files of a library embedded in numpy before torch is worth importing


def library_encoder() -> Callable[[np.ndarray, int], np.ndarray]:
    """``embed`` for a library's new files: the first TORCH_AFTER in numpy, the rest through torch (about 4x
    faster once its second of import is paid). A library with few new files never imports torch."""
    count = 0

    def encode(samples: np.ndarray, sample_rate: int) -> np.ndarray:
        nonlocal count
        count += 1
        return embed(samples, sample_rate, through_torch=count > TORCH_AFTER)

    return encode


def reference_network() -> Any:
    """The aisfx package's own torch network with its wheel's weights (to convert them, and to test the twin)."""
    try:
        from importlib.resources import files

        import torch
        from aisfx.models.cnn2d import CrossNet, EmbeddingNet
    except ImportError as error:
        raise EngineUnavailableError(f"converting the audio embedding needs the aisfx package: {error}",
                                     INSTALL_HINT) from None
    checkpoint = files("aisfx") / "models" / "checkpoint.pth"
    # the wheel's checkpoint is a pickled (state_dict, datasets) pair, so it cannot load weights-only
    state, datasets = torch.load(str(checkpoint), map_location="cpu", weights_only=False)
    network = CrossNet(EmbeddingNet("max", 3, 1, 64), datasets, "cpu")
    network.load_state_dict(state)
    return network.eval()


def convert() -> dict[str, np.ndarray]:
    """The embedding network's convolutions with their batch norms folded in, as float16 arrays."""
    net = reference_network().embedding_net
    out: dict[str, np.ndarray] = {}
    for block in range(4):
        module = getattr(net, f"conv_block{block + 1}")
        for half in (1, 2):
            conv, norm = getattr(module, f"conv{half}"), getattr(module, f"bn{half}")
            scale = (norm.weight / (norm.running_var + norm.eps).sqrt()).detach().double().numpy()
            weight = conv.weight.detach().double().numpy() * scale[:, None, None, None]
            bias = norm.bias.detach().double().numpy() - norm.running_mean.detach().double().numpy() * scale
            index = 2 * block + half - 1
            out[f"conv{index}_weight"], out[f"conv{index}_bias"] = weight.astype(np.float16), bias.astype(np.float32)
    return out


Statistics = tuple[np.ndarray, np.ndarray]  # (mean, spread) of embeddings, per unit

SEARCHED_MINIMUM = 50  # a set of sounds this large is standardised by its own statistics (``statistics``)


def statistics(vectors: np.ndarray | None = None) -> Statistics:
    """The mean and spread that ``standardise`` takes out: of ``vectors`` (the sounds being searched) when
    there are at least SEARCHED_MINIMUM of them, else the built-in library's (shipped).

    What sets a sound apart depends on what it is searched among: against a
    library of footsteps, what all footsteps share says nothing. A spread is
    kept at least a tenth of the median spread, so a unit the set barely uses
    cannot dominate.
    """
    if vectors is None or len(vectors) < SEARCHED_MINIMUM:
        data = _data()
        return data["mean"], data["std"]
    rows = np.asarray(vectors, dtype=np.float64)
    spread = rows.std(axis=0)
    return rows.mean(axis=0), np.maximum(spread, max(0.1 * float(np.median(spread)), 1e-6))  # copies: no spread


def standardise(vectors: np.ndarray, stats: Statistics | None = None) -> np.ndarray:
    """Rows (or one vector) as unit vectors after a mean and spread are taken out (default: the built-in library's)."""
    mean, spread = stats if stats is not None else statistics()
    z = (np.asarray(vectors, dtype=np.float64) - mean) / spread
    norms = np.linalg.norm(z, axis=-1, keepdims=True)
    return (z / np.maximum(norms, 1e-12)).astype(np.float32)


def enabled() -> bool:
    """Whether the ``audio_embedding`` setting asks for the likeness (``aisfx``) or turns it off (``none``)."""
    from sfxcli.settings import value

    setting = value("audio_embedding")
    if setting.value not in (NAME, "none"):
        raise setting.refuse(f"audio_embedding must be {NAME} or none, got {setting.value!r}")
    return bool(setting.value == NAME)


def build() -> None:
    """Write the filterbank (librosa's, as the package computes it), the converted weights and the built-in
    library's statistics into the package.

        python -m sfxcli.match.embedding
    """
    from librosa.filters import mel

    from sfxcli.audio import read_sound
    from sfxcli.library.sounds import write_shipped
    from sfxcli.library.store import DEFAULT_LIBRARY, open_library

    filters = mel(sr=RATE, n_fft=N_FFT, n_mels=MELS, fmin=0.0, fmax=RATE / 2, htk=True, norm=1.0).astype(np.float32)
    weights = convert()
    np.savez_compressed(DATA_FILE, filters=filters, mean=np.zeros(DIM), std=np.ones(DIM), **weights)
    _data.cache_clear()
    load_embedder.cache_clear()
    library = open_library(DEFAULT_LIBRARY)
    rows = [embed(*read_sound(DEFAULT_LIBRARY / e.path)) for e in library.entries]
    write_shipped(NAME, [e.path for e in library.entries], rows, np.float16)  # half the size; 1e-3 relative
    mean, spread = statistics(np.stack(rows))
    temp = DATA_FILE.with_name(".aisfx.part.npz")
    np.savez_compressed(temp, filters=filters, mean=mean, std=spread, recordings=np.array(len(rows)), **weights)
    temp.replace(DATA_FILE)
    _data.cache_clear()
    print(f"wrote {DATA_FILE}: weights, and statistics of {len(rows)} built-in recordings")


if __name__ == "__main__":
    build()
