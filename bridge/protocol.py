"""The OSC address space of ``sfx serve``: parsing requests and building replies.

Pure functions: a decoded message (address, arguments) in, a typed request or
a ``RequestError`` out; replies are ``(address, arguments)`` tuples. Every
request's first argument is a request id (string or int) chosen by the
client; every reply carries it back. Optional settings follow the fixed
arguments as key/value pairs, and ``token <secret>`` may be one of them.
The options of /sfx/generate are the request table's (``sfxcli.request``).

| address | arguments | replies |
|---|---|---|
| /sfx/generate | id, imitation path, label, [key value]... (``reply_port P``: replies to port P of the sender's host) | /sfx/accepted id position, /sfx/progress id fraction message, /sfx/done id path..., /sfx/error id message |
| /sfx/cancel | id of a queued or running job | /sfx/cancelled id, or /sfx/error id message |
| /sfx/status | id | /sfx/status id engine device state queued running project version worker_pid |
| /sfx/ping | id | /sfx/pong id version |
| /sfx/project | id, folder | /sfx/project id folder |
| /sfx/presets | id | /sfx/presets id name... |
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sfxcli.request import osc_kind, osc_options

MAX_DATAGRAM_BYTES = 8192
MAX_IMITATION_BYTES = 200 * 1024 * 1024
MAX_ID_CHARS = 128

Reply = tuple[str, list[Any]]

class RequestError(Exception):
    """A request the server answers with /sfx/error; ``request_id`` is '' when unknown."""

    def __init__(self, request_id: str, message: str) -> None:
        super().__init__(message)
        self.request_id = request_id
        self.message = message


@dataclass(frozen=True)
class Request:
    verb: str
    request_id: str
    args: tuple[Any, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)
    token: str | None = None
    reply_port: int | None = None  # replies go to this port of the sender's host instead of the sending port


FIXED_ARGS: dict[str, tuple[tuple[str, type], ...]] = {
    "generate": (("imitation", str), ("label", str)),
    "cancel": (),
    "status": (),
    "ping": (),
    "project": (("folder", str),),
    "presets": (),
}


def _request_id(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise RequestError("", f"the first argument must be a request id (string or int), got {type(value).__name__}")
    text = str(value)
    if not text or len(text) > MAX_ID_CHARS or any(ord(c) < 32 for c in text):
        raise RequestError("", f"request id must be 1..{MAX_ID_CHARS} printable characters")
    return text


def _coerce_option(request_id: str, key: str, value: Any, kind: type) -> Any:
    if kind is bool:
        if isinstance(value, bool) or (isinstance(value, (int, float)) and value in (0, 1)):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in ("0", "1", "true", "false", "yes", "no"):
            return value.strip().lower() in ("1", "true", "yes")
        raise RequestError(request_id, f"option {key!r} must be 0 or 1, got {value!r}")
    if kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if kind is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind is int and isinstance(value, float) and value.is_integer():
        return int(value)
    if kind is str and isinstance(value, str):
        return value
    if isinstance(value, str) and kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    raise RequestError(request_id, f"option {key!r} must be {kind.__name__}, got {value!r}")


def parse(address: str, arguments: list[Any]) -> Request:
    """Validate one decoded OSC message into a ``Request``."""
    if not address.startswith("/sfx/"):
        raise RequestError(_soft_id(arguments), f"unknown address {address!r}; use /sfx/generate, /sfx/status, ...")
    verb = address[len("/sfx/") :]
    if verb not in FIXED_ARGS:
        raise RequestError(_soft_id(arguments), f"unknown address {address!r}; known: "
                           + ", ".join(f"/sfx/{v}" for v in FIXED_ARGS))
    if not arguments:
        raise RequestError("", f"{address} needs a request id as its first argument")
    request_id = _request_id(arguments[0])
    fixed = FIXED_ARGS[verb]
    rest = list(arguments[1:])
    if len(rest) < len(fixed):
        names = ", ".join(name for name, _ in fixed)
        raise RequestError(request_id, f"{address} needs: id, {names}; got {len(arguments)} argument(s)")
    values = []
    for (name, kind), value in zip(fixed, rest):
        if not isinstance(value, kind) or (isinstance(value, str) and not value.strip()):
            raise RequestError(request_id, f"{address}: {name} must be a non-empty {kind.__name__}, got {value!r}")
        values.append(value)
    pairs = rest[len(fixed) :]
    if len(pairs) % 2:
        raise RequestError(request_id, f"{address}: options come in key/value pairs; {pairs[-1]!r} has no value")
    options: dict[str, Any] = {}
    token = None
    reply_port = None
    for key, value in zip(pairs[::2], pairs[1::2]):
        if not isinstance(key, str):
            raise RequestError(request_id, f"{address}: option names must be strings, got {key!r}")
        if key == "token":
            token = str(value)
            continue
        if key == "reply_port":
            reply_port = _coerce_option(request_id, key, value, int)
            if not 1 <= reply_port <= 65535:
                raise RequestError(request_id, f"reply_port must be 1..65535, got {reply_port}")
            continue
        generate_options = osc_options()
        if verb != "generate" or key not in generate_options:
            known = ", ".join([*generate_options, "reply_port"]) if verb == "generate" else "token, reply_port"
            raise RequestError(request_id, f"{address}: unknown option {key!r} (known: {known})")
        options[key] = _coerce_option(request_id, key, value, osc_kind(generate_options[key]))
    return Request(verb, request_id, tuple(values), options, token, reply_port)


def token_of(address: str, arguments: list[Any]) -> Any:
    """The value of the ``token`` pair of a message, looked up before anything else is parsed; None if absent."""
    verb = address[len("/sfx/"):] if address.startswith("/sfx/") else ""
    start = 1 + len(FIXED_ARGS.get(verb, ()))
    pairs = arguments[start:]
    for key, value in zip(pairs[::2], pairs[1::2]):
        if key == "token":
            return value
    return None


def short_id(arguments: list[Any]) -> str:
    """The request id to echo in a reply to a message that failed the token: short ones only (no amplification)."""
    rid = _soft_id(arguments)
    return rid if len(rid) <= 32 else ""


def _soft_id(arguments: list[Any]) -> str:
    """The request id of a message we cannot otherwise use, if it has one."""
    if arguments and isinstance(arguments[0], (str, int)) and not isinstance(arguments[0], bool):
        text = str(arguments[0])
        if 0 < len(text) <= MAX_ID_CHARS:
            return text
    return ""


def error(request_id: str, message: str) -> Reply:
    return ("/sfx/error", [request_id, message])
