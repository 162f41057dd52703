"""Neural codecs from ``sfx train autoencoder``: load one, encode audio to codes, decode codes to audio.

A codec run folder holds ``model_config.json`` + ``model.safetensors`` (a
stable-audio-tools autoencoder) and ``codec.json`` (its rate, frame rate,
bottleneck and bitrate). Quantiser codecs (``rvq``, ``dac_rvq``) store one
``ceil(log2(codebook_size))``-bit code per codebook per frame; a VAE stores
its latent means as float16.

The file format (``.sfxc``) is ``b"SFXC"``, a version byte, a 4-byte
big-endian header length, a JSON header (codec fingerprint, rates, lengths)
and the payload: codes bit-packed frame by frame, or float16 latents. The
packing functions are pure; torch is imported only when a model is loaded.
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sfxcli.errors import CodecFileError, NotACodecError

MAGIC = b"SFXC"
VERSION = 1
SUFFIX = ".sfxc"


@dataclass(frozen=True)
class CodecInfo:
    bottleneck: str  # rvq | dac_rvq | vae
    sample_rate: int
    channels: int
    downsampling: int
    num_quantizers: int
    codebook_size: int
    latent_dim: int

    @property
    def frame_rate_hz(self) -> float:
        return self.sample_rate / self.downsampling

    @property
    def bits_per_code(self) -> int:
        return max(1, math.ceil(math.log2(self.codebook_size)))

    @property
    def bitrate_bps(self) -> float:
        if self.bottleneck == "vae":
            return self.frame_rate_hz * self.latent_dim * 16
        return self.frame_rate_hz * self.num_quantizers * self.bits_per_code


@dataclass
class Codec:
    model: Any  # stable_audio_tools AudioAutoencoder, eval mode
    info: CodecInfo
    fingerprint: str  # first 16 hex digits of the weights' SHA-256
    folder: Path


@dataclass(frozen=True)
class Encoded:
    """What a file holds: codes (frames, quantizers) as integers, or latents (frames, latent_dim) as float16."""

    values: np.ndarray
    samples: int  # at the codec's rate
    source_rate: int
    source_channels: int
    fingerprint: str


# -- the file format (pure) -------------------------------------------------------------------------

def pack(encoded: Encoded, info: CodecInfo) -> bytes:
    """The ``.sfxc`` bytes for ``encoded``."""
    frames = int(encoded.values.shape[0])
    header = {"fingerprint": encoded.fingerprint, "bottleneck": info.bottleneck, "sample_rate": info.sample_rate,
              "samples": encoded.samples, "frames": frames, "source_rate": encoded.source_rate,
              "source_channels": encoded.source_channels}
    if info.bottleneck == "vae":
        payload = np.ascontiguousarray(encoded.values, dtype="<f2").tobytes()
        header.update(latent_dim=info.latent_dim)
    else:
        codes = np.asarray(encoded.values, dtype=np.int64)
        if codes.size and (codes.min() < 0 or codes.max() >= info.codebook_size):
            raise CodecFileError("a code lies outside the codebook")
        bits = info.bits_per_code
        header.update(quantizers=int(codes.shape[1]), bits=bits)
        as_bits = ((codes.reshape(-1, 1) >> np.arange(bits - 1, -1, -1)) & 1).astype(np.uint8)
        payload = np.packbits(as_bits.reshape(-1)).tobytes()
    text = json.dumps(header, separators=(",", ":")).encode()
    return MAGIC + bytes([VERSION]) + struct.pack(">I", len(text)) + text + payload


def unpack(data: bytes) -> tuple[dict[str, Any], np.ndarray]:
    """Header and values from ``.sfxc`` bytes; damage is a ``CodecFileError``."""
    if len(data) < 9 or data[:4] != MAGIC:
        raise CodecFileError("not an sfx codec file (it does not start with SFXC)",
                             "decode files that `sfx codec encode` wrote")
    if data[4] != VERSION:
        raise CodecFileError(f"sfx codec file version {data[4]} is not one this sfx reads (it reads {VERSION})")
    (length,) = struct.unpack(">I", data[5:9])
    try:
        header = json.loads(data[9:9 + length].decode())
        frames = int(header["frames"])
        payload = data[9 + length:]
        if header["bottleneck"] == "vae":
            width = int(header["latent_dim"])
            if len(payload) != frames * width * 2:
                raise ValueError("latent payload length")
            return header, np.frombuffer(payload, dtype="<f2").reshape(frames, width).astype(np.float32)
        quantizers, bits = int(header["quantizers"]), int(header["bits"])
        count = frames * quantizers
        if len(payload) != (count * bits + 7) // 8:
            raise ValueError("code payload length")
        as_bits = np.unpackbits(np.frombuffer(payload, dtype=np.uint8))[: count * bits].reshape(count, bits)
        codes = (as_bits.astype(np.int64) << np.arange(bits - 1, -1, -1)).sum(axis=1)
        return header, codes.reshape(frames, quantizers)
    except (KeyError, TypeError, ValueError, UnicodeDecodeError) as error:
        raise CodecFileError(f"the codec file is damaged ({error})") from None


# -- models -----------------------------------------------------------------------------------------

def read_info(folder: Path) -> CodecInfo:
    """``codec.json`` of a codec run folder; anything else is a ``NotACodecError``."""
    path = folder / "codec.json"
    if not folder.is_dir():
        raise NotACodecError(f"no codec folder at {folder}", "give the run folder of `sfx train autoencoder`")
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise NotACodecError(f"{folder} has no codec.json: it is not a finished `sfx train autoencoder` run",
                             "finish the run (--resume), or give another folder") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise NotACodecError(f"{path} is not readable JSON: {error}") from None
    if data.get("kind") != "codec":
        raise NotACodecError(f"{folder} is a {data.get('kind')!r} run, not a codec",
                             "a Stable Audio Open decoder fine-tune loads with `sfx gen --engine sao --model RUN`")
    try:
        return CodecInfo(str(data["bottleneck"]), int(data["sample_rate"]), int(data["channels"]),
                         int(data["downsampling"]), int(data["num_quantizers"]), int(data["codebook_size"]),
                         int(data["latent_dim"]))
    except (KeyError, TypeError, ValueError) as error:
        raise NotACodecError(f"{path} lacks {error}") from None


def load_codec(folder: Path) -> Codec:
    """A codec run folder, loaded on the CPU (or CUDA when present), ready to encode and decode."""
    import torch

    from sfxcli.engines.sao.model import build_model, read_state_dict
    from sfxcli.errors import EngineUnavailableError

    folder = folder.expanduser().resolve()
    info = read_info(folder)
    weights = folder / "model.safetensors"
    try:
        config = json.loads((folder / "model_config.json").read_text())
        model = build_model(config)
        model.load_state_dict(read_state_dict(weights))
    except (OSError, json.JSONDecodeError, EngineUnavailableError, RuntimeError) as error:
        raise NotACodecError(f"cannot load the codec in {folder}: {str(error).splitlines()[0]}") from None
    digest = hashlib.sha256()
    with open(weights, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    return Codec(model.to(device).eval().requires_grad_(False), info, digest.hexdigest()[:16], folder)


def _to_codec_audio(audio: np.ndarray, rate: int, info: CodecInfo) -> np.ndarray:
    """(channels, samples) at the codec's rate and channel count."""
    from sfxcli.analysis import resample

    if audio.shape[0] != info.channels:
        audio = np.repeat(audio.mean(axis=0, keepdims=True), info.channels, axis=0)
    if rate != info.sample_rate:
        audio = resample(audio.T, rate, info.sample_rate).T
    return np.ascontiguousarray(audio, dtype=np.float32)


def encode(codec: Codec, audio: np.ndarray, sample_rate: int) -> Encoded:
    """``audio`` (channels, samples) at ``sample_rate`` to codes or latents."""
    import torch

    info = codec.info
    x = _to_codec_audio(audio, sample_rate, info)
    samples = x.shape[1]
    padded = max(1, math.ceil(samples / info.downsampling)) * info.downsampling
    x = np.pad(x, ((0, 0), (0, padded - samples)))
    device = next(codec.model.parameters()).device
    with torch.no_grad():
        tensor = torch.from_numpy(x)[None].to(device)
        hidden = codec.model.encoder(tensor)
        bottleneck = codec.model.bottleneck
        if info.bottleneck == "vae":
            values = hidden.chunk(2, dim=1)[0][0].T.cpu().numpy().astype(np.float16)  # the mean, not a sample
        elif info.bottleneck == "rvq":
            _, indices, _ = bottleneck.quantizer(hidden.transpose(1, 2))
            values = indices[0].cpu().numpy()
        else:
            _, codes, *_ = bottleneck.quantizer(hidden)
            values = codes[0].T.cpu().numpy()
    return Encoded(values, samples, sample_rate, audio.shape[0], codec.fingerprint)


def decode(codec: Codec, values: np.ndarray, samples: int) -> np.ndarray:
    """Codes or latents (frames, ·) back to audio (channels, samples) at the codec's rate."""
    import torch

    info = codec.info
    device = next(codec.model.parameters()).device
    with torch.no_grad():
        if info.bottleneck == "vae":
            latents = torch.from_numpy(np.ascontiguousarray(values, dtype=np.float32).T)[None].to(device)
        elif info.bottleneck == "rvq":
            indices = torch.from_numpy(np.ascontiguousarray(values, dtype=np.int64))[None].to(device)
            latents = codec.model.bottleneck.quantizer.get_output_from_indices(indices).transpose(1, 2)
        else:
            codes = torch.from_numpy(np.ascontiguousarray(values.T, dtype=np.int64))[None].to(device)
            latents = codec.model.bottleneck.quantizer.from_codes(codes)[0]
        audio = codec.model.decoder(latents)[0].float().cpu().numpy()
    out = np.zeros((info.channels, samples), dtype=np.float32)
    length = min(samples, audio.shape[1])
    out[:, :length] = audio[:, :length]
    return out


def check_file(header: dict[str, Any], codec: Codec) -> None:
    """Refuse a file another codec wrote: its codes would decode to noise."""
    if header.get("fingerprint") != codec.fingerprint:
        raise CodecFileError(f"the file was encoded by another codec ({header.get('fingerprint')}; "
                             f"{codec.folder} is {codec.fingerprint})", "decode it with the --model that encoded it")


def to_source(audio: np.ndarray, header: dict[str, Any], info: CodecInfo) -> tuple[np.ndarray, int]:
    """Decoded audio back at the encoded file's own rate and channel count: (samples, channels), rate."""
    from sfxcli.analysis import resample

    rate, channels = int(header["source_rate"]), int(header["source_channels"])
    out = audio
    if rate != info.sample_rate:
        out = resample(out.T, info.sample_rate, rate).T
    if out.shape[0] != channels:
        out = np.repeat(out.mean(axis=0, keepdims=True), channels, axis=0)
    return np.clip(out.T, -1.0, 1.0).astype(np.float32), rate
