"""What stands between a datagram and the server's files: the token, throttling, path checks, bounded logs.

The threat: any process that can reach the port (on loopback, every local
user; with ``--allow-remote``, the network) sends whatever bytes it likes.
It must never make the server write outside its project roots, read or
probe files outside the folders it was started with, stop, wedge, or grow
its log without bound.

- ``TokenGuard``: the token is compared as bytes in constant time; an
  address that fails it five times in a minute is ignored for a minute.
- ``checked_file`` / ``checked_folder``: a client's path is refused before
  the file system is asked anything that could raise or hang (length,
  components, absolute), then checked with one ``stat`` (regular file or
  folder, never a FIFO or device) and against the allowed roots.
- ``OscNoise``: python-osc's own warnings about junk datagrams are counted,
  not printed, and ``LogLimiter`` turns any repeated line into a count per
  interval.
"""

from __future__ import annotations

import hmac
import logging
import os
import stat
import time
from collections import defaultdict, deque
from pathlib import Path
from typing import Callable

from bridge.protocol import RequestError

MAX_PATH_CHARS = 4096
MAX_COMPONENT_BYTES = 255
FAILURES_BEFORE_THROTTLE = 5
THROTTLE_SECONDS = 60.0
UNAUTHORIZED = "missing or wrong token: add the pair 'token', '<secret>' to every message"


class TokenGuard:
    def __init__(self, token: str | None, clock: Callable[[], float] | None = None) -> None:
        self.secret = token.encode("utf-8") if token else None
        self.failures: dict[str, deque[float]] = defaultdict(deque)
        self.blocked_until: dict[str, float] = {}
        self.clock = clock or time.monotonic

    @property
    def required(self) -> bool:
        return self.secret is not None

    def accepts(self, given: object) -> bool:
        """True when no token is required or ``given`` is it (any type; compared as bytes, in constant time)."""
        if self.secret is None:
            return True
        if isinstance(given, bytes):
            candidate = given
        elif isinstance(given, str):
            candidate = given.encode("utf-8", "surrogatepass")
        else:
            candidate = b""
        return hmac.compare_digest(candidate, self.secret)

    def blocked(self, host: str) -> bool:
        until = self.blocked_until.get(host)
        if until is None:
            return False
        if self.clock() >= until:
            del self.blocked_until[host]
            return False
        return True

    def failed(self, host: str) -> bool:
        """Count a failure from ``host``; True when it is now throttled."""
        now = self.clock()
        window = self.failures[host]
        window.append(now)
        while window and now - window[0] > THROTTLE_SECONDS:
            window.popleft()
        if len(window) >= FAILURES_BEFORE_THROTTLE:
            window.clear()
            self.blocked_until[host] = now + THROTTLE_SECONDS
            return True
        if len(self.failures) > 10_000:  # many spoofed sources: forget the oldest
            self.failures.pop(next(iter(self.failures)))
        return False


def _plain(rid: str, text: str, what: str) -> Path:
    if not isinstance(text, str) or not text or "\x00" in text:
        raise RequestError(rid, f"{what} must be a non-empty path")
    if len(text) > MAX_PATH_CHARS:
        raise RequestError(rid, f"{what} is {len(text)} characters long; the limit is {MAX_PATH_CHARS}")
    if any(len(part.encode("utf-8", "surrogatepass")) > MAX_COMPONENT_BYTES for part in text.split("/")):
        raise RequestError(rid, f"{what} has a folder or file name over {MAX_COMPONENT_BYTES} bytes")
    path = Path(text)
    if not path.is_absolute():
        raise RequestError(rid, f"{what} must be an absolute path, got {text[:200]!r}")
    return path


def _stat(rid: str, path: Path, what: str) -> os.stat_result:
    try:
        return os.stat(path)
    except FileNotFoundError:
        raise RequestError(rid, f"{what} does not exist: {path}") from None
    except OSError as error:
        raise RequestError(rid, f"cannot use {what} {path}: {error.strerror}") from None


def within(path: Path, roots: tuple[Path, ...]) -> bool:
    real = Path(os.path.realpath(path))
    return any(real.is_relative_to(Path(os.path.realpath(root))) for root in roots)


def checked_file(rid: str, text: str, what: str, max_bytes: int) -> Path:
    """An existing regular file named by an absolute path (never a folder, FIFO or device), at most ``max_bytes``."""
    path = _plain(rid, text, what)
    info = _stat(rid, path, what)
    if not stat.S_ISREG(info.st_mode):
        raise RequestError(rid, f"{what} is not an existing regular file: {path}")
    if info.st_size > max_bytes:
        raise RequestError(rid, f"{what} is {info.st_size // 2**20} MB; the limit is {max_bytes // 2**20} MB")
    return path


def checked_folder(rid: str, text: str, what: str, roots: tuple[Path, ...], flag: str) -> Path:
    """An existing folder named by an absolute path inside one of ``roots`` (symlinks resolved), resolved."""
    path = _plain(rid, text, what)
    if not roots:
        raise RequestError(rid, f"this server accepts no {what} from clients; start it with {flag} DIR")
    if not stat.S_ISDIR(_stat(rid, path, what).st_mode):
        raise RequestError(rid, f"{what} must be an existing folder given as an absolute path: {path}")
    if not within(path, roots):
        raise RequestError(rid, f"{what} {path} is outside the folders this server was started with "
                                f"({', '.join(str(r) for r in roots)}); add it with {flag}")
    return Path(os.path.realpath(path))


class OscNoise(logging.Filter):
    """Counts, instead of printing, what python-osc logs about junk (one warning per bad argument)."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if "pythonosc" in record.pathname:
            self.count += 1
            return False
        return True


class LogLimiter:
    """At most one line per kind per interval; the rest become a count in the next line of that kind."""

    def __init__(self, write: Callable[[str], None], interval: float = 60.0) -> None:
        self.write = write
        self.interval = interval
        self.last: dict[str, float] = {}
        self.held: dict[str, int] = defaultdict(int)
        self.bytes_written = 0

    def __call__(self, kind: str, text: str) -> None:
        now = time.monotonic()
        if kind in self.last and now - self.last[kind] < self.interval:
            self.held[kind] += 1
            return
        self.last[kind] = now
        held = self.held.pop(kind, 0)
        line = text + (f" (and {held} more like it in the last {self.interval:g} s)" if held else "")
        self.bytes_written += len(line) + 1
        self.write(line)
