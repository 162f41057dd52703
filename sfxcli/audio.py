"""Reading and checking the imitation: the only place that opens input audio.

``read_imitation`` is the file edge; ``check_signal`` is the pure check on
arrays that every entry point (CLI, bridge, tests) shares.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sfxcli.errors import (
    CorruptAudioError,
    SectionError,
    EmptyAudioError,
    MissingFileError,
    NonFiniteAudioError,
    NotAFileError,
    NotAudioError,
    SilentAudioError,
    TooLongError,
    TooShortError,
)

MIN_SECONDS = 0.1
DEFAULT_MAX_SECONDS = 60.0
SILENCE_DBFS = -60.0
EMPTY_CONTAINER_BYTES = 4608  # an empty Ogg Vorbis file, the largest empty container, is ~3.7 kB
AUDIO_SUFFIXES = (".wav", ".wave", ".flac", ".ogg", ".oga", ".mp3", ".aif", ".aiff", ".aifc")
_CONTAINER_MAGIC = (b"RIFF", b"RF64", b"fLaC", b"OggS", b"ID3", b"FORM", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2")


@dataclass(frozen=True)
class Section:
    """The part of a file that is the take: what a DAW plays of it (an item trimmed on the timeline)."""

    offset_seconds: float = 0.0
    length_seconds: float | None = None  # None: to the end of the file
    reverse: bool = False  # the DAW plays it backwards

    @property
    def whole(self) -> bool:
        return self.offset_seconds == 0.0 and self.length_seconds is None and not self.reverse


WHOLE = Section()


@dataclass(frozen=True)
class Imitation:
    """A checked imitation: mono samples plus what is known about the file."""

    samples: np.ndarray  # mono float64, peak-preserving downmix
    sample_rate: int
    channels: int
    path: str
    sha256: str

    @property
    def duration_seconds(self) -> float:
        return len(self.samples) / self.sample_rate


def peak_dbfs(samples: np.ndarray) -> float:
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    return 20.0 * np.log10(peak) if peak > 0 else -np.inf


def check_signal(
    samples: np.ndarray,
    sample_rate: int,
    name: str,
    max_seconds: float = DEFAULT_MAX_SECONDS,
) -> np.ndarray:
    """Validate decoded audio and return it as mono float64.

    ``samples`` is (frames,) or (frames, channels). Raises an ``AudioInputError``
    subclass naming the file and the value found.
    """
    data = np.asarray(samples, dtype=np.float64)
    if data.ndim == 1:
        data = data[:, None]
    if data.shape[0] == 0:
        raise EmptyAudioError(f"imitation holds no audio samples ({name})")
    if not np.all(np.isfinite(data)):
        bad = int(np.count_nonzero(~np.isfinite(data)))
        raise NonFiniteAudioError(f"imitation has {bad} NaN or infinite samples ({name})")
    duration = data.shape[0] / sample_rate
    if duration < MIN_SECONDS:
        raise TooShortError(
            f"imitation is {duration:.3f} s long ({name}); record at least {MIN_SECONDS} s"
        )
    if duration > max_seconds:
        raise TooLongError(
            f"imitation is {duration:.1f} s long ({name}); the limit is {max_seconds:g} s"
        )
    level = peak_dbfs(data)
    if level < SILENCE_DBFS:
        shown = "-inf" if not np.isfinite(level) else f"{level:.1f}"
        raise SilentAudioError(
            f"imitation is silent: peak {shown} dBFS ({name}); sfx needs above {SILENCE_DBFS:g} dBFS"
        )
    # Downmix by averaging channels; a single channel passes through unchanged.
    return data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]


def _declared_pcm_shortfall(head: bytes, file_size: int) -> bool:
    """True when a WAV or AIFF header declares more sample bytes than the file holds.

    libsndfile silently reads what is there, so a cut-off export would otherwise
    pass as a shorter recording.
    """
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        pos = 12
        while pos + 8 <= len(head):
            chunk_id, size = head[pos : pos + 4], struct.unpack("<I", head[pos + 4 : pos + 8])[0]
            if chunk_id == b"data":
                if size in (0, 0xFFFFFFFF):  # streaming writers leave it open
                    return False
                return pos + 8 + size > file_size
            pos += 8 + size + (size & 1)
        return False
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        pos = 12
        while pos + 8 <= len(head):
            chunk_id, size = head[pos : pos + 4], struct.unpack(">I", head[pos + 4 : pos + 8])[0]
            if chunk_id == b"SSND":
                return pos + 8 + size > file_size
            pos += 8 + size + (size & 1)
    return False


@contextmanager
def _native_stderr_silenced(active: bool) -> Iterator[None]:
    """libsndfile's mp3 decoder (mpg123) prints warnings straight to fd 2; the
    user gets sfx's own one-line message instead."""
    if not active:
        yield
        return
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _decode(path: Path, max_seconds: float, section: Section = WHOLE) -> tuple[np.ndarray, int]:
    with _native_stderr_silenced(path.suffix.lower() == ".mp3"):
        data, rate = _decode_soundfile(path, max_seconds, section)
    return (data[::-1].copy() if section.reverse else data), rate


def _frames_of(section: Section, declared: int, rate: int, path: Path) -> tuple[int, int | None]:
    """(first frame, frames wanted or None for "to the end") of a section; refuses one outside the file."""
    start = int(round(section.offset_seconds * rate))
    want = None if section.length_seconds is None else max(1, int(round(section.length_seconds * rate)))
    if declared > 0:
        total = declared / rate
        end = section.offset_seconds + (section.length_seconds or 0.0)
        if start >= declared or end > total + 0.01:
            shown = (f"{section.offset_seconds:g}..{end:g} s" if section.length_seconds is not None
                     else f"from {section.offset_seconds:g} s")
            raise SectionError(f"the take's section {shown} lies outside the imitation, which is {total:.2f} s long "
                               f"({path.name})")
        want = declared - start if want is None else min(want, declared - start)
    return start, want


def _too_long(seconds: float, max_seconds: float, path: Path) -> TooLongError:
    return TooLongError(f"imitation is {seconds:.1f} s long ({path.name}); the limit is {max_seconds:g} s")


def _decode_soundfile(path: Path, max_seconds: float, section: Section = WHOLE) -> tuple[np.ndarray, int]:
    """Decode the section, at most ``max_seconds`` of it (plus one frame): its length is checked from the
    header first, and a header that understates it cannot make the decoder read more."""
    import soundfile as sf

    try:
        handle = sf.SoundFile(str(path))
    except sf.LibsndfileError as error:
        if "malformed" in str(error):
            raise CorruptAudioError(f"imitation is damaged and cannot be decoded ({path})") from None
        return _decode_other(path, max_seconds, section)
    with handle:
        declared = handle.frames
        rate = handle.samplerate
        if rate <= 0:
            raise CorruptAudioError(f"imitation declares a sample rate of {rate} Hz ({path})")
        start, want = _frames_of(section, declared, rate, path)
        if want is not None and want / rate > max_seconds:
            raise _too_long(want / rate, max_seconds, path)
        limit = int(max_seconds * rate) + 1
        try:
            if start:
                handle.seek(start)
            data = handle.read(frames=limit if want is None else min(want, limit), dtype="float64", always_2d=True)
        except sf.LibsndfileError as error:
            raise CorruptAudioError(f"imitation is damaged: {str(error).strip()} ({path})") from None
        if data.shape[0] >= limit:
            raise _too_long(data.shape[0] / rate, max_seconds, path)
    # compressed formats report the frame count from their header; a large
    # shortfall means the stream stops early.
    if data.shape[0] == 0 and path.stat().st_size > EMPTY_CONTAINER_BYTES:
        raise CorruptAudioError(f"imitation is damaged: {path.stat().st_size} bytes decode to no audio ({path})")
    expected = want if want is not None else declared
    if expected and expected > 0 and data.shape[0] < 0.98 * expected:
        raise CorruptAudioError(
            f"imitation is truncated: header promises {declared} frames, file holds {start + data.shape[0]} ({path})"
        )
    return data, int(rate)


def _decode_other(path: Path, max_seconds: float, section: Section = WHOLE) -> tuple[np.ndarray, int]:
    """Formats libsndfile does not know: ask pedalboard's decoders before giving up."""
    with open(path, "rb") as handle:
        head = handle.read(16)
    try:
        from pedalboard.io import AudioFile

        with AudioFile(str(path)) as handle:
            declared = handle.frames
            rate = int(handle.samplerate)
            start, want = _frames_of(section, declared, rate, path)
            want = declared - start if want is None else want
            if rate > 0 and want / rate > max_seconds:
                raise _too_long(want / rate, max_seconds, path)
            if start:
                handle.seek(start)
            data = handle.read(want).T.astype(np.float64)
            declared = want
    except (ValueError, RuntimeError, OSError):
        if head.startswith(_CONTAINER_MAGIC):
            raise CorruptAudioError(f"imitation looks like audio but cannot be decoded ({path})") from None
        raise NotAudioError(f"imitation is not an audio file sfx can read ({path})") from None
    if declared > 0 and data.shape[0] < 0.98 * declared:
        raise CorruptAudioError(f"imitation is truncated ({path})")
    return data, rate


def regular_file(path: str | Path, what: str = "imitation") -> tuple[Path, int]:
    """The path (``~`` expanded) and size of an existing regular file; never opens it, so a FIFO cannot hang us."""
    try:
        file = Path(path).expanduser()
        info = os.stat(file)
    except RuntimeError:  # "~nosuchuser"
        raise MissingFileError(f"{what} not found: {path} (no such user's home folder)") from None
    except FileNotFoundError:
        raise MissingFileError(f"{what} not found: {path}") from None
    except OSError as error:
        if error.errno == errno.ENAMETOOLONG:
            raise MissingFileError(f"{what} not found: the path has a name too long for the file system") from None
        raise MissingFileError(f"{what} cannot be opened: {error.strerror} ({path})") from None
    if stat.S_ISDIR(info.st_mode):
        raise NotAFileError(f"{what} is a directory, not an audio file: {file}")
    if not stat.S_ISREG(info.st_mode):
        raise NotAFileError(f"{what} is not a regular file (a pipe, socket or device): {file}")
    return file, info.st_size


def read_imitation(path: str | Path, max_seconds: float = DEFAULT_MAX_SECONDS, section: Section = WHOLE) -> Imitation:
    """Open, decode and check an imitation (the ``section`` of a file a DAW plays), in memory bounded by
    ``max_seconds`` of it."""
    file, size = regular_file(path)
    if size == 0:
        raise EmptyAudioError(f"imitation is an empty file (0 bytes): {file}")
    with open(file, "rb") as handle:
        head = handle.read(65536)
    if _declared_pcm_shortfall(head, size):
        raise CorruptAudioError(f"imitation is truncated: its header promises more audio than the file holds ({file})")
    data, rate = _decode(file, max_seconds, section)  # refuses an over-long take from its header, before reading it
    mono = check_signal(data, rate, file.name, max_seconds)
    with open(file, "rb") as handle:
        digest = hashlib.file_digest(handle, "sha256")
    return Imitation(
        samples=mono,
        sample_rate=rate,
        channels=int(data.shape[1]),
        path=str(file),
        sha256=digest.hexdigest(),
    )


def read_sound_channels(path: str | Path, what: str = "sound") -> tuple[np.ndarray, int]:
    """Any audio file as (frames, channels) float64, read leniently; unreadable, empty or non-finite files are refused."""
    import soundfile as sf

    path, _ = regular_file(path, what)
    try:
        data, rate = sf.read(str(path), dtype="float64", always_2d=True)
    except (sf.LibsndfileError, RuntimeError):
        try:
            from pedalboard.io import AudioFile

            with AudioFile(str(path)) as handle:
                data, rate = handle.read(handle.frames).T.astype(np.float64), int(handle.samplerate)
        except (ValueError, RuntimeError, OSError):
            raise NotAudioError(f"cannot decode {path}") from None
    if data.size == 0:
        raise EmptyAudioError(f"{path} holds no samples")
    if not np.all(np.isfinite(data)):
        raise NonFiniteAudioError(f"{path} holds NaN or infinite samples")
    return data, int(rate)


def read_sound(path: str | Path) -> tuple[np.ndarray, int]:
    """A library or training sound as mono float64, read leniently.

    Unlike takes, sounds from libraries are often slightly off-spec (a WAV
    header promising more frames than the file holds, a 40 ms click): what
    decodes is used. Unreadable, empty, silent or non-finite files are refused.
    """
    data, rate = read_sound_channels(path)
    mono = data.mean(axis=1)
    if peak_dbfs(mono) < SILENCE_DBFS:
        raise SilentAudioError(f"{path} is silent")
    return mono, int(rate)
