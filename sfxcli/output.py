"""Writing results: safe names inside the project folder, atomic, never overwriting, never redirected.

File names follow the Universal Category System:
``CatID_FXName_CreatorID_SourceID_NNN`` (for example
``DOORCreak_door creak_sfx_MyGame_001.wav``, the number in UCS's UserData
field), each with a JSON sidecar of the same stem; the same fields are
embedded in the file (``sfxcli.metadata``).

How a write cannot be pointed elsewhere:

- every user-supplied path part (a subfolder's parts; label-, creator- and
  source-derived names) passes one name policy (``check_part`` /
  ``clean_part``): no separator of any platform, no ``..``, no leading ``~``
  or dot, no control characters, no Windows device names, bounded length;
- the project folder is resolved (symlinks included) and, when the caller
  names allowed roots, checked to lie inside one, when the request is made
  and again when the first byte is written;
- below it every folder is opened without following links (a symlinked
  subfolder is refused), and all writes go through that folder's
  descriptor, so nothing can swap a path component mid-write;
- temp files get unpredictable names and are created exclusively
  (``O_CREAT | O_EXCL | O_NOFOLLOW``); a result is published by hard-linking
  it under the next free name, which fails on *any* existing entry (a
  symlink or a FIFO included), so an existing name is skipped, never
  followed or replaced;
- audio is encoded in memory and then written, so a full disk is one clear
  error with nothing left behind.
"""

from __future__ import annotations

import errno
import io
import json
import os
import re
import secrets
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from sfxcli.errors import OutputError, UsageError
from sfxcli.metadata import Tags, embed
from sfxcli.request import FORMATS

Format = Literal["wav", "flac", "ogg", "mp3"]
MAX_NAME_CHARS = 60  # an FXName field
MAX_PART_CHARS = 64  # one folder name given by a user
MAX_DEPTH = 8  # folders below the project
_SF_FORMAT = {"wav": ("WAV", "PCM_24"), "flac": ("FLAC", "PCM_24"), "ogg": ("OGG", "VORBIS"), "mp3": ("MP3", "MPEG_LAYER_III")}
_WINDOWS_DEVICES = re.compile(r"^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)(\..*)?$", re.I)
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]")
_DIR_FD = os.open in os.supports_dir_fd and os.link in os.supports_dir_fd


# -- the name policy ---------------------------------------------------------------------------------

def check_part(text: str, what: str) -> str:
    """One user-supplied name (a folder, an id) as it will be used, or a ``UsageError`` saying why not."""
    if not text or not text.strip():
        raise UsageError(f"{what} is empty")
    if len(text) > MAX_PART_CHARS:
        raise UsageError(f"{what} is {len(text)} characters long; keep it to {MAX_PART_CHARS}")
    if _UNSAFE.search(text):
        bad = sorted({repr(c) for c in _UNSAFE.findall(text)})
        raise UsageError(f"{what} {text!r} holds {', '.join(bad)}: names may not hold path separators, "
                         "control characters or any of : * ? \" < > |")
    if text in (".", "..") or text.startswith((".", "~")):
        raise UsageError(f"{what} {text!r} may not start with a dot or ~")
    if text != text.strip() or text.endswith("."):
        raise UsageError(f"{what} {text!r} may not begin or end with a space, or end with a dot")
    if _WINDOWS_DEVICES.match(text):
        raise UsageError(f"{what} {text!r} is a reserved device name on Windows")
    return text


def clean_part(text: str, fallback: str, limit: int = MAX_NAME_CHARS) -> str:
    """Any text as a safe name field: ASCII, no separators, control characters or ``_``, bounded length.

    Used where a name is derived rather than chosen (a label's FXName), so it
    is mended instead of refused; ``fallback`` when nothing is left.
    """
    ascii_text = text if text.isascii() else unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    ascii_text = re.sub(r"[\x00-\x1f\x7f/\\:*?\"<>|_]+", " ", ascii_text)
    ascii_text = re.sub(r"\s+", " ", ascii_text).strip(" .~")
    ascii_text = ascii_text[:limit].rstrip(" .")
    if not ascii_text or _WINDOWS_DEVICES.match(ascii_text):
        return fallback
    return ascii_text


def safe_fx_name(label: str, fallback: str) -> str:
    """The label as a UCS FXName: a file-name field without UCS's own delimiters ('_' between fields,
    '-' before a vendor category)."""
    return clean_part(label.replace("-", " "), fallback)


def ucs_stem(catid: str, fx_name: str, creator_id: str, source_id: str) -> str:
    """``CatID_FXName_CreatorID_SourceID``; each result adds ``_NNN`` (UCS's UserData) to stay unique."""
    return "_".join((catid, fx_name, creator_id, source_id))


def subfolder_parts(subfolder: str) -> tuple[str, ...]:
    """A subfolder such as ``sfx`` or ``sfx/doors`` as its checked parts ('/' is the only separator)."""
    if "\x00" in subfolder:
        raise UsageError("output subfolder holds a NUL character")
    if subfolder.startswith("/") or re.match(r"^[A-Za-z]:", subfolder):
        raise UsageError(f"output subfolder must be a relative path inside the project, got {subfolder!r}")
    parts = tuple(part for part in subfolder.split("/") if part != "")
    if not parts:
        raise UsageError("output subfolder is empty; leave the option out for the default 'sfx'")
    if len(parts) > MAX_DEPTH:
        raise UsageError(f"output subfolder is {len(parts)} folders deep; the limit is {MAX_DEPTH}")
    for part in parts:
        if part == "..":
            raise UsageError(f"output subfolder must stay inside the project, got {subfolder!r}")
        check_part(part, "output subfolder part")
    return parts


# -- where results go --------------------------------------------------------------------------------

def is_within(path: Path, root: Path) -> bool:
    """Whether ``path`` is ``root`` or below it, both resolved (symlinks followed)."""
    try:
        return Path(os.path.realpath(path)).is_relative_to(Path(os.path.realpath(root)))
    except (OSError, ValueError):
        return False


@dataclass(frozen=True)
class OutputFolder:
    """``project/part/part``, checked; created and opened only when the first file is written."""

    project: Path  # resolved
    parts: tuple[str, ...]
    roots: tuple[Path, ...] = ()  # folders the project must lie in (a server's); () = the project itself

    @property
    def path(self) -> Path:
        return self.project.joinpath(*self.parts)

    def check_root(self) -> None:
        if self.roots and not any(is_within(self.project, root) for root in self.roots):
            raise OutputError(f"project folder {self.project} is outside the folders this server writes to",
                              "start sfx serve with --project-root for it")
        if not self.project.is_dir():
            raise OutputError(f"project folder does not exist: {self.project}", "create it first or pass another --project")

    @contextmanager
    def opened(self) -> Iterator[int]:
        """The output folder's descriptor, every part below the project created and opened without following links."""
        self.check_root()
        if not _DIR_FD:  # pragma: no cover - Windows: paths, checked part by part
            yield -1
            return
        fd = _open_dir(str(self.project), None)
        try:
            for part in self.parts:
                try:
                    os.mkdir(part, 0o777, dir_fd=fd)
                except FileExistsError:
                    pass
                except OSError as error:
                    raise OutputError(f"cannot create output folder {self.project.joinpath(part)}: {error.strerror}") from None
                inner = _open_dir(part, fd)
                os.close(fd)
                fd = inner
            yield fd
        finally:
            os.close(fd)


def _open_dir(name: str, parent: int | None) -> int:
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
    if parent is not None:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        return os.open(name, flags, dir_fd=parent) if parent is not None else os.open(name, flags)
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENOTDIR):
            raise OutputError(f"{name!r} in the project is a link or not a folder; sfx writes only into real folders "
                              "inside the project", "remove the link, or choose another --subfolder") from None
        raise OutputError(f"cannot open the output folder {name!r}: {error.strerror}") from None


def output_folder(project: Path, subfolder: str, roots: tuple[Path, ...] = ()) -> OutputFolder:
    """``project/subfolder``, refusing anything that would land outside the project (or outside ``roots``).

    Checks only: the folders are created when the first file is written, so
    a request that fails leaves the project untouched.
    """
    try:
        root = project.expanduser()
        if not root.exists():
            raise OutputError(f"project folder does not exist: {root}", "create it first or pass another --project")
        if not root.is_dir():
            raise OutputError(f"project path is not a folder: {root}")
        resolved = Path(os.path.realpath(root))
    except (OSError, RuntimeError) as error:
        raise OutputError(f"cannot use the project folder {project}: {getattr(error, 'strerror', None) or error}") from None
    folder = OutputFolder(resolved, subfolder_parts(subfolder), tuple(Path(os.path.realpath(r)) for r in roots))
    folder.check_root()
    for depth in range(1, len(folder.parts) + 1):  # an existing link anywhere below the project is refused now
        step = resolved.joinpath(*folder.parts[:depth])
        if step.is_symlink() or (step.exists() and not step.is_dir()):
            raise UsageError(f"output subfolder {subfolder!r}: {step} is a link or not a folder; sfx writes only into "
                             "real folders inside the project")
    return folder


# -- writing -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Written:
    audio_path: Path
    sidecar_path: Path


def encode(audio: np.ndarray, sample_rate: int, fmt: str) -> bytes:
    """The file's bytes, encoded in memory (so a full disk is a write error, not a half-encoded file)."""
    import soundfile as sf

    container, subtype = _SF_FORMAT[fmt]
    buffer = io.BytesIO()
    sf.write(buffer, np.clip(audio, -1.0, 1.0), sample_rate, format=container, subtype=subtype)
    return buffer.getvalue()


def _create(dir_fd: int, folder: Path, name: str) -> int:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    if dir_fd >= 0:
        return os.open(name, flags, 0o644, dir_fd=dir_fd)
    return os.open(folder / name, flags, 0o644)  # pragma: no cover - Windows


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    os.fsync(fd)


def _temp(dir_fd: int, folder: Path, stem: str, suffix: str, data: bytes) -> str:
    """Write ``data`` to a new, exclusively created temp file with an unpredictable name; its name."""
    for _ in range(16):
        name = f".{stem}.{os.getpid()}.{secrets.token_hex(8)}.partial.{suffix}"
        try:
            fd = _create(dir_fd, folder, name)
        except FileExistsError:
            continue
        try:
            _write_all(fd, data)
        except OSError:
            os.close(fd)
            _unlink(dir_fd, folder, name)
            raise
        os.close(fd)
        return name
    raise OutputError(f"cannot create a temp file in {folder}")  # pragma: no cover - 16 collisions of 64 random bits


def _unlink(dir_fd: int, folder: Path, name: str) -> None:
    try:
        if dir_fd >= 0:
            os.unlink(name, dir_fd=dir_fd)
        else:  # pragma: no cover - Windows
            (folder / name).unlink()
    except FileNotFoundError:
        pass


def _publish(dir_fd: int, folder: Path, temp: str, final: str) -> bool:
    """Give ``temp`` the name ``final`` unless anything at all has that name; True on success."""
    try:
        if dir_fd >= 0:
            os.link(temp, final, src_dir_fd=dir_fd, dst_dir_fd=dir_fd, follow_symlinks=False)
        else:  # pragma: no cover - Windows
            os.link(folder / temp, folder / final)
    except FileExistsError:
        return False
    except OSError as error:
        if error.errno not in (errno.EPERM, errno.EXDEV, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        # a file system without hard links (exFAT, FAT): claim the name exclusively, then move onto the claim
        try:
            os.close(_create(dir_fd, folder, final))
        except FileExistsError:
            return False
        if dir_fd >= 0:
            os.replace(temp, final, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        else:  # pragma: no cover - Windows
            os.replace(folder / temp, folder / final)
        return True
    _unlink(dir_fd, folder, temp)
    return True


def _listing(dir_fd: int, folder: Path) -> list[str]:
    return os.listdir(dir_fd) if dir_fd >= 0 else os.listdir(folder)


def _taken(dir_fd: int, folder: Path, name: str) -> bool:
    try:
        if dir_fd >= 0:
            os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        else:  # pragma: no cover - Windows
            os.lstat(folder / name)
    except FileNotFoundError:
        return False
    return True


def _next_index(names: list[str], stem: str) -> int:
    pattern = re.compile(re.escape(stem) + r"_(\d{3,})\.")
    used = [int(m.group(1)) for name in names if (m := pattern.match(name))]
    return max(used, default=0) + 1


def _disk_error(error: OSError, folder: Path) -> OutputError:
    if error.errno == errno.ENOSPC:
        return OutputError(f"the disk holding {folder} is full; the file was not written",
                           "free some space or choose another --project")
    return OutputError(f"cannot write into {folder}: {error.strerror}")


def write_result(folder: OutputFolder, stem: str, audio: np.ndarray, sample_rate: int, fmt: str,
                 sidecar: dict[str, Any], tags: Tags | None = None) -> Written:
    """Encode (with ``tags`` embedded), then publish under the next free number with its sidecar;
    nothing is ever overwritten."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    data = encode(audio, sample_rate, fmt)
    if tags is not None:
        data = embed(data, fmt, tags)
    where = folder.path
    temps: list[str] = []
    try:
        with folder.opened() as dir_fd:
            try:
                audio_temp = _temp(dir_fd, where, stem, fmt, data)
                temps.append(audio_temp)
                index = _next_index(_listing(dir_fd, where), stem)
                while True:
                    final = f"{stem}_{index:03d}.{fmt}"
                    meta_final = f"{stem}_{index:03d}.json"
                    if not _taken(dir_fd, where, meta_final) and _publish(dir_fd, where, audio_temp, final):
                        temps.remove(audio_temp)
                        break
                    index += 1
                record = json.dumps({**sidecar, "file": final}, indent=2, sort_keys=True) + "\n"
                try:
                    meta_temp = _temp(dir_fd, where, stem, "json", record.encode())
                    temps.append(meta_temp)
                    if not _publish(dir_fd, where, meta_temp, meta_final):  # pragma: no cover - lost a race
                        raise OutputError(f"sidecar {where / meta_final} appeared while writing")
                except (OSError, OutputError):
                    _unlink(dir_fd, where, final)  # a result always comes with its sidecar
                    raise
                temps.remove(meta_temp)
                return Written(where / final, where / meta_final)
            finally:
                for temp in temps:
                    _unlink(dir_fd, where, temp)
    except OSError as error:
        raise _disk_error(error, where) from None


def write_file(folder: OutputFolder, name: str, data: bytes) -> Path:
    """Publish ``data`` as ``name`` in the folder, atomically; an existing name gets ``-2``, ``-3``... before its suffix."""
    stem, _, suffix = name.rpartition(".")
    where = folder.path
    try:
        with folder.opened() as dir_fd:
            temp = _temp(dir_fd, where, stem, suffix, data)
            try:
                for attempt in range(1, 1000):
                    final = name if attempt == 1 else f"{stem}-{attempt}.{suffix}"
                    if _publish(dir_fd, where, temp, final):
                        return where / final
                raise OutputError(f"no free name for {name} in {where}")
            finally:
                _unlink(dir_fd, where, temp)
    except OSError as error:
        raise _disk_error(error, where) from None
