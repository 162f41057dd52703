"""A small OSC client: send one request to ``sfx serve`` and wait for its answer."""

from __future__ import annotations

import socket
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable

from pythonosc.osc_message import OscMessage
from pythonosc.osc_packet import OscPacket, ParseError

from bridge.server import encode
from sfxcli.errors import BridgeError, BridgeTimeoutError


@dataclass(frozen=True)
class Answer:
    address: str
    arguments: list[Any]


def request(host: str, port: int, address: str, arguments: list[Any], timeout_seconds: float,
            final: tuple[str, ...], on_reply: Callable[[Answer], None] | None = None) -> Answer:
    """Send ``address arguments`` and return the first reply in ``final`` that carries the same id."""
    request_id = str(arguments[0])
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        local = "::1" if family == socket.AF_INET6 else "127.0.0.1"
        sock.bind((local if host in ("127.0.0.1", "localhost", "::1") else "", 0))
        try:
            # connected, so that "nothing listens there" comes back at once (as ICMP) instead of as a timeout
            sock.connect((host, port))
            sock.send(encode(address, arguments))
        except ConnectionRefusedError:
            raise BridgeError(f"nothing is listening on {host}:{port}") from None
        except OSError as err:
            raise BridgeError(f"cannot send to {host}:{port}: {err.strerror}") from None
        deadline = time.monotonic() + timeout_seconds
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BridgeTimeoutError(f"no answer from {host}:{port} within {timeout_seconds:g} s")
            sock.settimeout(remaining)
            try:
                data = sock.recv(65536)
            except socket.timeout:
                continue
            except ConnectionRefusedError:
                raise BridgeError(f"nothing is listening on {host}:{port}") from None
            try:
                messages: list[OscMessage] = [m.message for m in OscPacket(data).messages]
            except ParseError:
                continue
            for message in messages:
                params = list(message.params)
                if not params or str(params[0]) != request_id:
                    continue
                answer = Answer(message.address, params)
                if on_reply:
                    on_reply(answer)
                if message.address in final:
                    return answer


def new_id() -> str:
    return uuid.uuid4().hex[:12]
