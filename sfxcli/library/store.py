"""Open a library for generation: its up-to-date index plus sentence vectors when known.

The default library ships inside the package (``sfxcli/data/library``) with
its vectors precomputed; a user's library gets vectors from
``sfx library index`` when the sentence model is installed, and is matched on
words and UCS synonyms alone until then.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from sfxcli.library.index import Entry, IndexReport, index_path, update_index
from sfxcli.log import LOGGER
from sfxcli.settings import DATA_DIR

DEFAULT_LIBRARY = DATA_DIR / "library"
SHIPPED_VECTORS = DEFAULT_LIBRARY / "vectors.npz"
log = logging.getLogger(LOGGER)


@dataclass(frozen=True)
class Library:
    root: Path
    entries: list[Entry]
    vectors: np.ndarray | None  # unit sentence vectors, row for row with entries
    report: IndexReport


def vectors_path(root: Path) -> Path:
    return SHIPPED_VECTORS if root.resolve() == DEFAULT_LIBRARY.resolve() else index_path(root).with_suffix(".npz")


def load_cache(path: Path, keys: tuple[str, ...] | None = None) -> dict[str, np.ndarray] | None:
    """The arrays of a cache file, or None when there is none; a damaged one (cut short by a kill, a full disk,
    a foreign file) is removed with a warning, to be rebuilt, never a failure."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in (keys if keys is not None else data.files)}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        log.warning("the cache file %s is damaged (%s); rebuilding it", path, str(error).strip() or type(error).__name__)
        try:
            path.unlink()
        except OSError:
            pass
        return None


def save_cache(path: Path, arrays: dict[str, np.ndarray], compressed: bool = False) -> None:
    """Write a cache file atomically: a uniquely named temp file beside it, then one rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.stem}.{os.getpid()}.{secrets.token_hex(4)}.part.npz")
    try:
        (np.savez_compressed if compressed else np.savez)(temp, **arrays)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def _aligned(path: Path, entries: list[Entry]) -> np.ndarray | None:
    data = load_cache(path, ("paths", "vectors"))
    if data is None:
        return None
    rows = {str(p): i for i, p in enumerate(data["paths"])}
    if not all(e.path in rows for e in entries):
        return None  # stale: some recordings have no vector yet
    return data["vectors"].astype(np.float32)[[rows[e.path] for e in entries]]


RESCAN_SECONDS = 30.0  # a resident process (sfx serve) looks for new recordings at most this often
_OPEN: dict[Path, tuple[float, Library]] = {}


def open_library(root: Path | None = None, progress: Callable[[int, int], None] | None = None,
                 refresh: bool = False) -> Library:
    """The library at ``root`` with an up-to-date index; re-scanned at most every 30 s per process."""
    folder = (root or DEFAULT_LIBRARY).expanduser()
    key = folder.resolve()
    cached = _OPEN.get(key)
    if cached and not refresh and time.monotonic() - cached[0] < RESCAN_SECONDS:
        return cached[1]
    entries, report = update_index(folder, progress)
    library = Library(folder, entries, _aligned(vectors_path(folder), entries), report)
    _OPEN[key] = (time.monotonic(), library)
    return library


def embed_library(library: Library, encode: Callable[[list[str]], np.ndarray], path: Path | None = None) -> Path:
    """Compute and save the sentence vectors of every recording (label plus tags)."""
    texts = [f"{e.label}. {e.tags}".strip(". ") for e in library.entries]
    vectors = encode(texts) if texts else np.zeros((0, 384), dtype=np.float32)
    target = path or vectors_path(library.root)
    save_cache(target, {"paths": np.array([e.path for e in library.entries]), "vectors": vectors.astype(np.float16)},
               compressed=True)
    return target

