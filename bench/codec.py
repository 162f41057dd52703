"""Trained codecs against plain baselines at the same bitrate, on held-out sounds.

For each codec run (folders from `sfx train autoencoder`), the held-out
sounds of its run (``dataset.json``; the split is by file name, so runs on
the same data share it) are cut into fixed crops at the codec's rate. Each
crop goes through the real path: `sfx codec`'s encode, the bit-packed file
format and decode. The same crops go through the baselines, at the codec's
bitrate:

- mu-law at a reduced rate: 8 bits at bitrate/8 Hz and 4 bits at bitrate/4 Hz
  (torchaudio's mu-law, soxr resampling down and back up);
- Opus (libsndfile's, through soundfile), its VBR level searched so that the
  whole stream, Ogg framing included, stays at or below the bitrate.

It prints, per method: bitrate (kbps, measured from the bytes written),
multi-resolution STFT distance, SI-SDR (dB) and mel distance (auraloss; lower
is better except SI-SDR), and for codecs the training steps per second: wall
clock between the run's first and last numbered checkpoints.

    python bench/codec.py RUN [RUN ...]
    python bench/codec.py runs/base runs/curriculum runs/stage --crops 64 --seconds 1
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402,F401

from sfxcli.analysis import resample  # noqa: E402
from sfxcli.codec import decode, encode, load_codec, pack, unpack  # noqa: E402
from training.autoencoder import fixed_crops, reconstruction_metrics  # noqa: E402
from training.finetune import prepare_sounds  # noqa: E402
from training.data import Example  # noqa: E402

BENCH_SEED = 4242


def held_out_crops(run: Path, rate: int, channels: int, count: int, seconds: float) -> np.ndarray:
    held = json.loads((run / "dataset.json").read_text())["held_out"]
    if not held:
        raise SystemExit(f"{run} kept no sounds out (holdout 0): nothing fair to measure on")
    sounds, _ = prepare_sounds([Example(label="x", sound=Path(p)) for p in held], rate, channels)
    return fixed_crops([s for s, _ in sounds], int(seconds * rate), count, BENCH_SEED)


def through_codec(run: Path, crops: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Decoded crops, the payload bitrate measured from the packed files, and the seconds per crop."""
    codec = load_codec(run)
    out, bits = np.zeros_like(crops), 0
    started = time.perf_counter()
    for i, crop in enumerate(crops):
        data = pack(encode(codec, crop, codec.info.sample_rate), codec.info)
        header_bytes = 9 + int.from_bytes(data[5:9], "big")
        bits += 8 * (len(data) - header_bytes)
        header, values = unpack(data)
        out[i] = decode(codec, values, int(header["samples"]))
    elapsed = (time.perf_counter() - started) / len(crops)
    return out, bits / (crops.shape[0] * crops.shape[-1] / codec.info.sample_rate), elapsed


def training_speed(run: Path) -> tuple[int, float | None]:
    """Steps, and steps per second between the run's first and last numbered checkpoints (loading and pauses
    left out)."""
    import re

    marks = sorted((int(m.group(1)), p.stat().st_mtime) for p in (run / "checkpoints").glob("*.ckpt")
                   if (m := re.search(r"step=(\d+)", p.name)))
    if not marks:
        return 0, None
    if len(marks) < 2 or marks[-1][1] <= marks[0][1]:
        return marks[-1][0], None
    return marks[-1][0], (marks[-1][0] - marks[0][0]) / (marks[-1][1] - marks[0][1])


def mu_law(crops: np.ndarray, rate: int, bitrate: float, bits: int) -> np.ndarray:
    import torch
    import torchaudio.functional as AF

    low = int(bitrate // bits)
    out = np.zeros_like(crops)
    for i, crop in enumerate(crops):
        down = resample(crop.T, rate, low)
        codes = AF.mu_law_encoding(torch.from_numpy(np.clip(down, -1, 1)).float(), 2 ** bits)
        back = AF.mu_law_decoding(codes, 2 ** bits).numpy()
        up = resample(back, low, rate).T
        out[i, :, : min(up.shape[1], crops.shape[-1])] = up[:, : crops.shape[-1]]
    return out


def opus(crops: np.ndarray, rate: int, bitrate: float) -> tuple[np.ndarray, float]:
    """All crops as one Opus stream at the highest VBR quality that keeps it at or below ``bitrate``."""
    import soundfile as sf

    stream = np.concatenate(list(crops), axis=-1).T
    seconds = stream.shape[0] / rate

    def encoded(level: float) -> bytes:
        buffer = io.BytesIO()
        sf.write(buffer, stream, rate, format="OGG", subtype="OPUS", compression_level=level)
        return buffer.getvalue()

    low, high = 0.0, 1.0  # compression level: higher is smaller
    best = encoded(high)
    for _ in range(12):
        middle = (low + high) / 2
        data = encoded(middle)
        if 8 * len(data) / seconds <= bitrate:
            high, best = middle, data
        else:
            low = middle
    decoded, _ = sf.read(io.BytesIO(best), dtype="float32", always_2d=True)
    decoded = decoded[: stream.shape[0]].T
    out = np.zeros_like(crops)
    step = crops.shape[-1]
    for i in range(crops.shape[0]):
        piece = decoded[:, i * step:(i + 1) * step]
        out[i, :, : piece.shape[1]] = piece
    return out, 8 * len(best) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--crops", type=int, default=48)
    parser.add_argument("--seconds", type=float, default=1.0)
    args = parser.parse_args()
    first = load_codec(args.runs[0]).info
    rate, channels, bitrate = first.sample_rate, first.channels, first.bitrate_bps
    crops = held_out_crops(args.runs[0], rate, channels, args.crops, args.seconds)
    print(f"{len(crops)} held-out crops of {args.seconds:g} s at {rate} Hz, {channels} channel(s); "
          f"codec bitrate {bitrate / 1000:g} kbps")
    print(f"{'method':34} {'kbps':>6} {'STFT':>7} {'SI-SDR':>8} {'mel':>7} {'s/crop':>7} {'steps/s':>8}")

    def row(name: str, decoded: np.ndarray, kbps: float, per_crop: str = "", rate_text: str = "") -> None:
        m = reconstruction_metrics(crops, decoded, rate)
        print(f"{name:34} {kbps:6.2f} {m['stft']:7.3f} {m['sisdr_db']:8.2f} {m['mel']:7.3f} {per_crop:>7} "
              f"{rate_text:>8}", flush=True)

    for run in args.runs:
        info = load_codec(run).info
        if (info.sample_rate, info.channels, info.bitrate_bps) != (rate, channels, bitrate):
            print(f"{run}: skipped (another rate, channel count or bitrate than {args.runs[0]})")
            continue
        decoded, payload_bps, per_crop = through_codec(run, crops)
        steps, speed = training_speed(run)
        row(f"codec {run.name} ({steps} steps)", decoded, payload_bps / 1000, f"{per_crop:.3f}",
            f"{speed:.2f}" if speed else "")
    row("mu-law 8 bit", mu_law(crops, rate, bitrate, 8), bitrate / 1000)
    row("mu-law 4 bit", mu_law(crops, rate, bitrate, 4), bitrate / 1000)
    decoded, opus_bps = opus(crops, rate, bitrate)
    row("Opus (libsndfile, VBR)" if opus_bps <= bitrate else "Opus (its lowest VBR level)", decoded, opus_bps / 1000)
    row("silence (floor)", np.zeros_like(crops), 0.0)


if __name__ == "__main__":
    main()
