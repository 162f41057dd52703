"""Minimal python-osc client for `sfx serve`: send one imitation, print the files.

    sfx serve --project ~/Music/MyGame          # in another terminal
    python bridge/clients/python_client.py take.wav "door creak"

Replies come back to the port this script sends from, so it binds its own
socket and uses it for both directions.
"""

from __future__ import annotations

import socket
import sys
import uuid
from pathlib import Path

from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_packet import OscPacket

HOST, PORT = "127.0.0.1", 9001


def main() -> int:
    imitation, label = Path(sys.argv[1]).resolve(), sys.argv[2]
    request_id = uuid.uuid4().hex[:8]
    builder = OscMessageBuilder("/sfx/generate")
    for value in (request_id, str(imitation), label, "variations", 4):
        builder.add_arg(value)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(120)
    sock.sendto(builder.build().dgram, (HOST, PORT))
    while True:
        data, _ = sock.recvfrom(65536)
        for timed in OscPacket(data).messages:
            address, args = timed.message.address, list(timed.message.params)
            if not args or args[0] != request_id:
                continue
            if address == "/sfx/progress":
                print(args[2], file=sys.stderr)
            elif address == "/sfx/done":
                print("\n".join(args[1:]))
                return 0
            elif address in ("/sfx/error", "/sfx/cancelled"):
                print(f"error: {args[1] if len(args) > 1 else 'cancelled'}", file=sys.stderr)
                return 1


if __name__ == "__main__":
    sys.exit(main())
