"""Build the Max for Live device ``sfx.amxd`` from its readable source, ``sfx-device.maxpat``.

An .amxd file is the patcher's JSON inside a small binary container: the
chunks ``ampf`` (the device type: ``aaaa``, an audio effect), ``meta`` and
``ptch`` (the JSON, NUL-terminated), each a 4-byte tag and a little-endian
32-bit size. Max opens and saves it as it would any device.

    python bridge/clients/live/build_amxd.py            # writes bridge/clients/live/sfx.amxd
    python bridge/clients/live/build_amxd.py OUT.amxd
"""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "sfx-device.maxpat"
AUDIO_EFFECT = b"aaaa"


def chunk(tag: bytes, payload: bytes) -> bytes:
    return tag + struct.pack("<I", len(payload)) + payload


def build(source: Path = SOURCE) -> bytes:
    patcher = json.loads(source.read_text(encoding="utf-8"))  # refuse a broken source before wrapping it
    payload = json.dumps(patcher, indent=1).encode("utf-8") + b"\x00"
    return chunk(b"ampf", AUDIO_EFFECT) + chunk(b"meta", struct.pack("<I", 0)) + chunk(b"ptch", payload)


def read(data: bytes) -> dict:
    """The patcher inside an .amxd (the reverse of ``build``, for checking it)."""
    pos, found = 0, {}
    while pos + 8 <= len(data):
        tag, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        found[tag] = data[pos + 8:pos + 8 + size]
        pos += 8 + size
    return json.loads(found[b"ptch"].rstrip(b"\x00").decode("utf-8"))


def main() -> None:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "sfx.amxd"
    data = build()
    target.write_bytes(data)
    print(f"{target} ({len(data)} bytes)")


if __name__ == "__main__":
    main()
