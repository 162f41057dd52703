"""sfx's one logger: library code warns through it, the CLI and the server show it on stderr.

Library code never prints; what a user should know but that is not an
error (a damaged cache being rebuilt, a file skipped) goes to
``logging.getLogger("sfx")`` and appears as ``warning: ...``.
"""

from __future__ import annotations

import logging
import sys

LOGGER = "sfx"


class _Stderr(logging.Handler):
    """Writes to whatever ``sys.stderr`` is when the record comes (tests swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(f"{record.levelname.lower()}: {record.getMessage()}\n")
            sys.stderr.flush()
        except (OSError, ValueError):  # a closed stderr must not turn a warning into a crash
            pass


def show_on_stderr() -> None:
    """Route the ``sfx`` logger to stderr once per process (warnings and above)."""
    logger = logging.getLogger(LOGGER)
    if any(isinstance(h, _Stderr) for h in logger.handlers):
        return
    logger.addHandler(_Stderr())
    logger.setLevel(logging.WARNING)
    logger.propagate = False
