"""An on-disk index of a folder of recordings, updated incrementally.

Labels come from, in order of trust: a JSON sidecar beside the file
(``label``/``description``, ``tags``/``keywords``), a CSV manifest in the
file's folder or any folder above it (columns ``path``/``file``/``filename``
and ``label``/``description``, optional ``tags``), a UCS-style file name
(``CatID_FX Name_Creator_Source``), and otherwise the file name and its
folders. The index is a SQLite file in the user's cache folder
(``$SFX_CACHE``, default ``~/.cache/sfx``), keyed by the library's path, so
read-only libraries work too.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import sqlite3
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sfxcli.audio import AUDIO_SUFFIXES
from sfxcli.errors import LibraryError
from sfxcli.settings import cache_dir

INDEX_VERSION = 1
MANIFEST_NAMES = ("manifest.csv", "metadata.csv", "labels.csv")


@dataclass(frozen=True)
class Entry:
    path: str  # relative to the library root, with forward slashes
    label: str
    tags: str
    catid: str
    duration_seconds: float
    sample_rate: int
    channels: int
    licence: str = ""


@dataclass
class IndexReport:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, why)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


def index_path(root: Path) -> Path:
    key = hashlib.sha1(str(root.resolve()).encode()).hexdigest()[:16]
    return cache_dir() / f"library-{key}.sqlite"


def scan(root: Path, skipped: list[tuple[str, str]] | None = None) -> Iterator[Path]:
    """Audio files below ``root``, depth first, skipping hidden files and folders.

    Only regular files (or links to them) are yielded: a FIFO, socket or
    device named like audio would hang or break whatever opens it, so it is
    listed in ``skipped`` instead. Folder links are not followed (no loops).
    """
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith(".") and Path(name).suffix.lower() in AUDIO_SUFFIXES:
                path = Path(folder) / name
                if is_regular(path):
                    yield path
                elif skipped is not None:
                    skipped.append((path.relative_to(root).as_posix(), "not a regular file (a pipe, device or broken link)"))


def is_regular(path: Path) -> bool:
    """A regular file, or a link to one; never opens it."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def words_of(text: str) -> str:
    """File-name text as words: separators to spaces, camelCase split, digits and take numbers dropped."""
    text = _CAMEL.sub(" ", text)
    text = re.sub(r"[_\-.+]+", " ", text)
    text = re.sub(r"\b\d+\b|\b(?:take|tk|v)\d+\b", " ", text, flags=re.I)
    return re.sub(r"\s+", " ", text).strip().lower()


def _ucs_parts(stem: str, catids: frozenset[str]) -> tuple[str, str] | None:
    parts = stem.split("_")
    if len(parts) >= 2 and parts[0] in catids:
        return parts[0], words_of(parts[1])
    return None


def _manifests(root: Path) -> dict[str, dict[str, str]]:
    """Rows of every CSV manifest under ``root``, keyed by the file they describe (relative path)."""
    rows: dict[str, dict[str, str]] = {}
    base = os.path.abspath(root)
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if name.lower() not in MANIFEST_NAMES:
                continue
            manifest = Path(folder) / name
            if not is_regular(manifest):
                continue
            try:
                with open(manifest, newline="", encoding="utf-8", errors="replace") as handle:
                    for row in csv.DictReader(handle):
                        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
                        target = row.get("path") or row.get("file") or row.get("filename")
                        if target:
                            full = os.path.normpath(os.path.join(os.path.abspath(folder), target))
                            if full.startswith(base + os.sep):
                                rows[Path(os.path.relpath(full, base)).as_posix()] = row
            except (OSError, csv.Error, ValueError):
                continue
    return rows


def describe(file: Path, root: Path, manifest_rows: dict[str, dict[str, str]],
             catids: frozenset[str]) -> tuple[str, str, str, str]:
    """(label, tags, catid, licence) for one file."""
    rel = file.relative_to(root).as_posix()
    folders = " ".join(words_of(part) for part in file.relative_to(root).parent.parts)
    sidecar = file.with_suffix(".json")
    if sidecar.is_file():
        try:
            data = json.loads(sidecar.read_text(encoding="utf-8"))
            if isinstance(data, dict) and (data.get("label") or data.get("description")):
                tags = data.get("tags") or data.get("keywords") or ""
                tags = " ".join(tags) if isinstance(tags, list) else str(tags)
                return (str(data.get("label") or data.get("description")), f"{tags} {folders}".strip(),
                        str(data.get("catid", "")), str(data.get("license") or data.get("licence") or ""))
        except (OSError, ValueError):
            pass
    row = manifest_rows.get(rel)
    if row and (row.get("label") or row.get("description")):
        return (row.get("label") or row.get("description") or "", f"{row.get('tags', '')} {folders}".strip(),
                row.get("catid", ""), row.get("license", "") or row.get("licence", ""))
    ucs = _ucs_parts(file.stem, catids)
    if ucs:
        return ucs[1], folders, ucs[0], ""
    return words_of(file.stem), folders, "", ""


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
    version = db.execute("SELECT value FROM meta WHERE key='version'").fetchone()
    if version is None or int(version[0]) != INDEX_VERSION:
        db.execute("DROP TABLE IF EXISTS files")
        db.execute("INSERT OR REPLACE INTO meta VALUES ('version', ?)", (str(INDEX_VERSION),))
    db.execute(
        "CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, label TEXT,"
        " tags TEXT, catid TEXT, licence TEXT, duration REAL, sample_rate INTEGER, channels INTEGER, error TEXT,"
        " describe_key TEXT)"
    )
    return db


def _probe(file: Path) -> tuple[float, int, int]:
    import soundfile as sf

    info = sf.info(str(file))
    if info.frames <= 0 or info.samplerate <= 0:
        raise ValueError("no audio frames")
    return info.frames / info.samplerate, int(info.samplerate), int(info.channels)


def update_index(root: Path, progress: Callable[[int, int], None] | None = None) -> tuple[list[Entry], IndexReport]:
    """Bring the index of ``root`` up to date and return its usable entries."""
    import soundfile as sf

    from sfxcli.labels import ucs_categories

    root = root.expanduser()
    if not root.is_dir():
        raise LibraryError(f"library folder not found: {root}")
    catids = frozenset(c.catid for c in ucs_categories())
    manifest_rows = _manifests(root)
    report = IndexReport()
    not_regular: list[tuple[str, str]] = []
    files = list(scan(root, not_regular))
    try:
        db = _connect(index_path(root))
    except (OSError, sqlite3.Error) as error:
        raise LibraryError(f"cannot open the library index in {cache_dir()}: {error}", "set SFX_CACHE to a writable folder") from None
    with db:
        known = {row[0]: row[1:] for row in db.execute("SELECT path, size, mtime_ns, describe_key FROM files")}
        seen: set[str] = set()
        for i, file in enumerate(files):
            rel = file.relative_to(root).as_posix()
            seen.add(rel)
            try:
                stat = file.stat()
            except OSError:
                continue
            label, tags, catid, licence = describe(file, root, manifest_rows, catids)
            describe_key = f"{label}|{tags}|{catid}|{licence}"
            previous = known.get(rel)
            if previous == (stat.st_size, stat.st_mtime_ns, describe_key):
                report.unchanged += 1
            else:
                try:
                    duration, rate, channels = _probe(file)
                    problem = ""
                except (sf.LibsndfileError, RuntimeError, ValueError, OSError) as err:
                    duration, rate, channels, problem = 0.0, 0, 0, str(err).strip() or type(err).__name__
                db.execute("INSERT OR REPLACE INTO files VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                           (rel, stat.st_size, stat.st_mtime_ns, label, tags, catid, licence, duration, rate,
                            channels, problem, describe_key))
                if previous is None:
                    report.added += 1
                else:
                    report.updated += 1
            if progress:
                progress(i + 1, len(files))
        gone = [path for path in known if path not in seen]
        db.executemany("DELETE FROM files WHERE path = ?", [(p,) for p in gone])
        report.removed = len(gone)
        rows = db.execute("SELECT path, label, tags, catid, duration, sample_rate, channels, licence, error FROM files"
                          " ORDER BY path").fetchall()
    db.close()
    entries = []
    report.skipped.extend(not_regular)
    for path, label, tags, catid, duration, rate, channels, licence, problem in rows:
        if problem:
            report.skipped.append((path, problem))
        elif duration >= 0.05:
            entries.append(Entry(path, label, tags, catid, duration, rate, channels, licence))
        else:
            report.skipped.append((path, f"only {duration:.3f} s long"))
    return entries, report
