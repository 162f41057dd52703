"""Writing results: safe names inside the project folder, atomic, never overwriting.

File names follow the Universal Category System: ``CatID_FXName_CreatorID_NNN``
(for example ``DOORCreak_door creak_sfx_001.wav``), each with a JSON sidecar
of the same stem.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from sfxcli.errors import OutputError, UsageError
from sfxcli.request import FORMATS

Format = Literal["wav", "flac", "ogg", "mp3"]
CREATOR_ID = "sfx"
MAX_NAME_CHARS = 60
_SF_FORMAT = {"wav": ("WAV", "PCM_24"), "flac": ("FLAC", "PCM_24"), "ogg": ("OGG", "VORBIS"), "mp3": ("MP3", "MPEG_LAYER_III")}


@dataclass(frozen=True)
class Written:
    audio_path: Path
    sidecar_path: Path


def safe_fx_name(label: str, fallback: str) -> str:
    """The label as a file-name field: ASCII, no separators or control characters."""
    text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[\x00-\x1f\x7f/\\:*?\"<>|_]+", " ", text)
    text = re.sub(r"\s+", " ", text).strip(" .")
    text = text[:MAX_NAME_CHARS].rstrip(" .")
    return text or fallback


def output_folder(project: Path, subfolder: str) -> Path:
    """``project/subfolder``, refusing anything that would land outside the project.

    Checks only; ``make_folder`` creates it when the first file is written, so
    a request that fails leaves the project untouched.
    """
    root = project.expanduser()
    if not root.exists():
        raise OutputError(f"project folder does not exist: {root}", "create it first or pass another --project")
    if not root.is_dir():
        raise OutputError(f"project path is not a folder: {root}")
    sub = Path(subfolder)
    if sub.is_absolute() or ".." in sub.parts or "\x00" in subfolder:
        raise UsageError(f"output subfolder must be a relative path inside the project, got {subfolder!r}")
    folder = (root / sub).resolve()
    if not folder.is_relative_to(root.resolve()):
        raise UsageError(f"output subfolder {subfolder!r} leads outside the project folder")
    return folder


def make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"cannot create output folder {folder}: {error.strerror}") from None


def _next_index(folder: Path, stem: str) -> int:
    pattern = re.compile(re.escape(stem) + r"_(\d{3,})\.")
    used = [int(m.group(1)) for p in folder.iterdir() if (m := pattern.match(p.name))]
    return max(used, default=0) + 1


def _link_into_place(tmp: Path, final: Path) -> bool:
    """Publish ``tmp`` as ``final`` unless ``final`` exists; True on success."""
    try:
        os.link(tmp, final)
    except FileExistsError:
        return False
    except OSError:
        # file systems without hard links: exclusive create of the name, then replace
        try:
            fd = os.open(final, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return False
        os.close(fd)
        os.replace(tmp, final)
        return True
    tmp.unlink()
    return True


def encode(audio: np.ndarray, sample_rate: int, fmt: str, path: Path) -> None:
    import soundfile as sf

    container, subtype = _SF_FORMAT[fmt]
    clipped = np.clip(audio, -1.0, 1.0)
    with open(path, "wb") as handle:
        sf.write(handle, clipped, sample_rate, format=container, subtype=subtype)
        handle.flush()
        os.fsync(handle.fileno())


def write_result(folder: Path, catid: str, fx_name: str, audio: np.ndarray, sample_rate: int, fmt: str,
                 sidecar: dict[str, Any]) -> Written:
    """Encode to a temp file, then publish under the next free number with its sidecar."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    make_folder(folder)
    stem = f"{catid}_{fx_name}_{CREATOR_ID}"
    tmp_audio = folder / f".{stem}.{os.getpid()}.partial.{fmt}"
    tmp_meta = folder / f".{stem}.{os.getpid()}.partial.json"
    try:
        encode(audio, sample_rate, fmt, tmp_audio)
        index = _next_index(folder, stem)
        while True:
            final = folder / f"{stem}_{index:03d}.{fmt}"
            meta_final = final.with_suffix(".json")
            if not meta_final.exists() and _link_into_place(tmp_audio, final):
                break
            index += 1
        record = {**sidecar, "file": final.name}
        tmp_meta.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
        if not _link_into_place(tmp_meta, meta_final):  # pragma: no cover - lost a race on the sidecar
            raise OutputError(f"sidecar {meta_final} appeared while writing; results kept, sidecar not written")
        return Written(final, meta_final)
    except OSError as error:
        raise OutputError(f"cannot write into {folder}: {error.strerror}") from None
    finally:
        for tmp in (tmp_audio, tmp_meta):
            if tmp.exists():
                tmp.unlink()
