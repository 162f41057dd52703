"""``sfx codec``: encode sounds with a codec from ``sfx train autoencoder`` and decode them again."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Optional

import numpy as np
import typer

app = typer.Typer(help="Encode and decode sounds with a codec you trained.", no_args_is_help=True)


def _read(path: Path) -> tuple[np.ndarray, int]:
    """Any audio file as (channels, samples) float32."""
    from sfxcli.audio import read_sound_channels

    data, rate = read_sound_channels(path)
    return np.ascontiguousarray(data.T, dtype=np.float32), rate


def _write_atomically(path: Path, data: bytes, force: bool) -> None:
    from sfxcli.errors import OutputError

    if path.exists() and not force:
        raise OutputError(f"{path} exists", "pass --force to replace it, or -o another path")
    if not path.parent.is_dir():
        raise OutputError(f"no folder {path.parent} to write {path.name} in")
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temp, path)
    except OSError as error:
        Path(temp).unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {error.strerror}") from None


@app.command("encode")
def encode_command(
    sound: Path = typer.Argument(..., help="The sound to encode (wav, flac, ogg, mp3, aiff)."),
    model: Path = typer.Option(..., "--model", help="A codec run folder from `sfx train autoencoder`."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="The codes file (default: SOUND.sfxc beside it)."),
    force: bool = typer.Option(False, "--force", help="Replace an existing output file."),
    as_json: bool = typer.Option(False, "--json", help="Print the path, bitrate and sizes as JSON on stdout."),
) -> None:
    """Encode SOUND to codes at the codec's bitrate."""
    from sfxcli.codec import SUFFIX, encode, load_codec, pack, read_info

    info = read_info(model.expanduser().resolve())  # a wrong folder fails before the sound is read
    audio, rate = _read(sound)
    codec = load_codec(model)
    encoded = encode(codec, audio, rate)
    data = pack(encoded, info)
    target = output or sound.with_suffix(SUFFIX)
    _write_atomically(target, data, force)
    seconds = encoded.samples / info.sample_rate
    report = {"path": str(target.resolve()), "seconds": round(seconds, 3), "bytes": len(data),
              "bitrate_bps": info.bitrate_bps, "file_bitrate_bps": round(8 * len(data) / max(seconds, 1e-9), 1),
              "frames": int(encoded.values.shape[0])}
    typer.echo(json.dumps(report, indent=2) if as_json else str(target))


@app.command("decode")
def decode_command(
    codes: Path = typer.Argument(..., help="A .sfxc file from `sfx codec encode`."),
    model: Path = typer.Option(..., "--model", help="The codec run folder that encoded it."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="The WAV to write (default: CODES.wav beside it)."),
    force: bool = typer.Option(False, "--force", help="Replace an existing output file."),
) -> None:
    """Decode CODES to a WAV at the encoded sound's own rate and channel count."""
    import io

    import soundfile as sf

    from sfxcli.audio import regular_file
    from sfxcli.codec import check_file, decode, load_codec, read_info, to_source, unpack
    from sfxcli.errors import CodecFileError

    info = read_info(model.expanduser().resolve())
    path, size = regular_file(codes, "codes file")
    if size > 1 << 30:
        raise CodecFileError(f"{path} is {size} bytes: too large for a codes file")
    header, values = unpack(path.read_bytes())
    codec = load_codec(model)
    check_file(header, codec)
    audio = decode(codec, values, int(header["samples"]))
    samples, rate = to_source(audio, header, info)
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format="WAV", subtype="PCM_24")
    target = output or path.with_suffix(".wav")
    _write_atomically(target, buffer.getvalue(), force)
    typer.echo(str(target))
