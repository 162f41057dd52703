"""What a sound library sees in a result: BWF ``bext``, ``iXML`` (UCS and ASWG fields) and RIFF INFO in WAV,
Vorbis comments in FLAC and Ogg, ID3 in MP3; and reading the same kinds of fields from a user's library.

Writing is pure: ``embed(data, fmt, tags)`` returns the encoded file's
bytes with the metadata added, so it is published atomically with the
audio. WAV chunks are written here (no maintained Python library writes
``bext`` plus ``iXML``) and placed after ``fmt`` and before ``data``, as
BWF readers expect; the samples are untouched. The other formats go
through mutagen. Reading (``read_tags``) uses wavinfo for WAV and mutagen
for the rest, and gives up on a broken file with ``MetadataError``.

Text that cannot go into a field is mended, never left to corrupt the
file: control characters are dropped, ``bext`` text is folded to ASCII and
cut to its fixed width, XML is escaped by the XML writer.
"""

from __future__ import annotations

import io
import re
import struct
import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sfxcli import __version__

BEXT_DESCRIPTION = 256
BEXT_ORIGINATOR = 32
BEXT_REFERENCE = 32
MAX_CHUNK_BYTES = 1 << 20  # chunks a user library may hold that we read at most


class MetadataError(Exception):
    """A file's embedded metadata cannot be read (broken chunks, not XML, ...)."""


@dataclass(frozen=True)
class Tags:
    """Everything sfx writes into a result, in one place (strings are already what the user chose)."""

    fx_name: str
    catid: str
    category: str
    subcategory: str
    description: str  # label, engine and recipe
    keywords: tuple[str, ...]
    creator_id: str
    source_id: str
    designer: str
    library: str  # the UCS "library": the project/show the sounds are for
    notes: str  # engine, seed and the reproduce command
    originator_reference: str  # unique per file
    date: str  # YYYY-MM-DD
    time: str  # HH:MM:SS
    time_reference: int  # samples since the timeline's zero (the take's position)
    sample_rate: int
    channels: int
    bits: int | None  # None for compressed formats
    engine: str
    fx_chains: tuple[str, ...] = ()
    usage_rights: str = ""  # credits and licences of recordings a result was made from
    loudness_lufs: float | None = None
    true_peak_dbfs: float | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def category_full(self) -> str:
        return f"{self.category}-{self.subcategory}" if self.subcategory else self.category

    @property
    def coding_history(self) -> str:
        mode = "mono" if self.channels == 1 else "stereo" if self.channels == 2 else f"{self.channels}ch"
        bits = f",W={self.bits}" if self.bits else ""
        return f"A=PCM,F={self.sample_rate}{bits},M={mode},T=sfx {__version__} {self.engine} engine\r\n"


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def printable(text: str) -> str:
    """Text without control characters (newlines and tabs become spaces)."""
    return _CONTROL.sub("", text.replace("\r", " ").replace("\n", " ").replace("\t", " "))


def ascii_field(text: str, width: int) -> bytes:
    """A fixed-width ``bext`` field: ASCII (accents folded), cut to ``width``, NUL-padded."""
    folded = unicodedata.normalize("NFKD", printable(text)).encode("ascii", "ignore")
    return folded[:width].ljust(width, b"\x00")


# -- WAV chunks ----------------------------------------------------------------------------------------

def _chunk(ident: bytes, payload: bytes) -> bytes:
    return ident + struct.pack("<I", len(payload)) + payload + (b"\x00" if len(payload) % 2 else b"")


def bext_chunk(tags: Tags) -> bytes:
    """EBU Tech 3285 version 1 (with loudness fields left unset, as version 2 readers accept)."""
    body = (ascii_field(tags.description, BEXT_DESCRIPTION) + ascii_field(tags.designer or "sfx", BEXT_ORIGINATOR)
            + ascii_field(tags.originator_reference, BEXT_REFERENCE) + ascii_field(tags.date, 10)
            + ascii_field(tags.time, 8) + struct.pack("<QH", max(0, tags.time_reference), 1) + b"\x00" * 64
            + b"\x00" * 10 + b"\x00" * 180 + tags.coding_history.encode("ascii"))
    return _chunk(b"bext", body)


def ixml_document(tags: Tags) -> bytes:
    root = ET.Element("BWFXML")
    ET.SubElement(root, "IXML_VERSION").text = "2.10"
    ET.SubElement(root, "PROJECT").text = printable(tags.library or tags.source_id)
    ET.SubElement(root, "NOTE").text = printable(tags.description)
    speed = ET.SubElement(root, "SPEED")
    ET.SubElement(speed, "FILE_SAMPLE_RATE").text = str(tags.sample_rate)
    ET.SubElement(speed, "TIMESTAMP_SAMPLE_RATE").text = str(tags.sample_rate)
    ET.SubElement(speed, "TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_HI").text = str((tags.time_reference >> 32) & 0xFFFFFFFF)
    ET.SubElement(speed, "TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_LO").text = str(tags.time_reference & 0xFFFFFFFF)
    user = ET.SubElement(root, "USER")
    fields = {"CATID": tags.catid, "CATEGORY": tags.category, "SUBCATEGORY": tags.subcategory,
              "CATEGORYFULL": tags.category_full, "FXNAME": tags.fx_name, "DESCRIPTION": tags.description,
              "KEYWORDS": ", ".join(tags.keywords), "NOTES": tags.notes, "DESIGNER": tags.designer,
              "CREATORID": tags.creator_id, "SOURCEID": tags.source_id, "LIBRARY": tags.library,
              "MANUFACTURER": "sfx", "EMBEDDER": f"sfx {__version__}", "RECTYPE": f"generated ({tags.engine} engine)",
              **tags.extra}
    for key, value in fields.items():
        if value:
            ET.SubElement(user, key).text = printable(value)
    aswg = ET.SubElement(root, "ASWG")
    values = {"contentType": "sfx", "isDesigned": "true", "originator": tags.designer or tags.creator_id,
              "notes": tags.notes, "library": tags.library, "creatorId": tags.creator_id, "sourceId": tags.source_id,
              "category": tags.category, "subCategory": tags.subcategory, "catId": tags.catid, "fxName": tags.fx_name,
              "fxChainName": ", ".join(tags.fx_chains), "usageRights": tags.usage_rights,
              "loudness": f"{tags.loudness_lufs:.1f}" if tags.loudness_lufs is not None else "",
              "maxPeak": f"{tags.true_peak_dbfs:.1f}" if tags.true_peak_dbfs is not None else ""}
    for key, value in values.items():
        if value:
            ET.SubElement(aswg, key).text = printable(value)
    return b'<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(root, encoding="utf-8")


def info_chunk(tags: Tags) -> bytes:
    """RIFF LIST INFO: what file browsers and older tools show."""
    entries = {b"INAM": tags.fx_name, b"ICMT": tags.description, b"IKEY": "; ".join(tags.keywords),
               b"IART": tags.designer or tags.creator_id, b"IGNR": tags.category_full, b"ICRD": tags.date,
               b"ISFT": f"sfx {__version__}", b"ISRC": tags.source_id, b"ICOP": tags.usage_rights}
    body = b"INFO" + b"".join(_chunk(key, printable(value).encode("utf-8") + b"\x00")
                              for key, value in entries.items() if value)
    return _chunk(b"LIST", body)


def embed_wav(data: bytes, tags: Tags) -> bytes:
    """A RIFF/WAVE file's bytes with bext, iXML and INFO chunks inserted after ``fmt``."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("not a RIFF/WAVE file")
    pos, insert_at = 12, None
    while pos + 8 <= len(data):
        ident, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        end = pos + 8 + size + (size & 1)
        if ident == b"fmt ":
            insert_at = end
            break
        pos = end
    if insert_at is None:
        raise ValueError("no fmt chunk")
    extra = bext_chunk(tags) + _chunk(b"iXML", ixml_document(tags)) + info_chunk(tags)
    body = data[12:insert_at] + extra + data[insert_at:]
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WAVE" + body


# -- FLAC, Ogg, MP3 -------------------------------------------------------------------------------------

def comments(tags: Tags) -> dict[str, str]:
    """Vorbis comments (names as Soundminer, BaseHead and Reaper read them)."""
    values = {"TITLE": tags.fx_name, "DESCRIPTION": tags.description, "COMMENT": tags.notes,
              "ARTIST": tags.designer or tags.creator_id, "DATE": tags.date, "GENRE": tags.category_full,
              "KEYWORDS": ", ".join(tags.keywords), "CATID": tags.catid, "CATEGORY": tags.category,
              "SUBCATEGORY": tags.subcategory, "FXNAME": tags.fx_name, "CREATORID": tags.creator_id,
              "SOURCEID": tags.source_id, "LIBRARY": tags.library, "DESIGNER": tags.designer,
              "NOTES": tags.notes, "TIME_REFERENCE": str(tags.time_reference), "ORIGINATOR_REFERENCE":
              tags.originator_reference, "ENCODER": f"sfx {__version__}", "COPYRIGHT": tags.usage_rights}
    return {key: printable(value) for key, value in values.items() if value}


def embed(data: bytes, fmt: str, tags: Tags) -> bytes:
    """The encoded file with its metadata."""
    if fmt == "wav":
        return embed_wav(data, tags)
    import mutagen.flac
    import mutagen.id3
    import mutagen.mp3
    import mutagen.oggvorbis

    buffer = io.BytesIO(data)
    values = comments(tags)
    audio: Any
    if fmt == "mp3":
        audio = mutagen.mp3.MP3(buffer)
        if audio.tags is None:
            audio.add_tags()
        frames = {"TITLE": mutagen.id3.TIT2, "ARTIST": mutagen.id3.TPE1, "GENRE": mutagen.id3.TCON,
                  "DATE": mutagen.id3.TDRC}
        for key, value in values.items():
            if key in frames:
                audio.tags.add(frames[key](encoding=3, text=[value]))
            elif key == "COMMENT":
                audio.tags.add(mutagen.id3.COMM(encoding=3, lang="eng", desc="", text=[value]))
            else:
                audio.tags.add(mutagen.id3.TXXX(encoding=3, desc=key, text=[value]))
    else:
        audio = (mutagen.flac.FLAC if fmt == "flac" else mutagen.oggvorbis.OggVorbis)(buffer)
        for key, value in values.items():
            audio[key] = [value]
    buffer.seek(0)
    audio.save(buffer)
    return buffer.getvalue()


# -- reading a user's library ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Found:
    """What a file's embedded metadata says about it (empty strings where it says nothing)."""

    label: str = ""
    keywords: str = ""
    catid: str = ""
    licence: str = ""
    author: str = ""


def read_tags(path: Path) -> Found:
    """Labels from embedded metadata: iXML USER fields, bext Description and INFO in WAV; Vorbis comments,
    ID3 and the like elsewhere. Raises ``MetadataError`` for a file whose metadata is broken."""
    suffix = path.suffix.lower()
    try:
        return _read_wav(path) if suffix in (".wav", ".wave") else _read_other(path)
    except MetadataError:
        raise
    except Exception as error:  # noqa: BLE001 - readers of hostile files raise every type there is
        raise MetadataError(f"{type(error).__name__}: {str(error).strip()[:120] or 'unreadable'}") from None


def _first(*values: str | None) -> str:
    return next((printable(v).strip() for v in values if v and printable(v).strip()), "")


def _read_wav(path: Path) -> Found:
    from wavinfo import WavInfoReader

    _check_chunk_sizes(path)
    reader = WavInfoReader(str(path))
    user: dict[str, str] = {}
    if reader.ixml is not None:
        try:  # wavinfo's parser recovers what it can from broken XML; a half-read label is worse than none
            ET.fromstring(reader.ixml.source)
        except ET.ParseError as error:
            raise MetadataError(f"its iXML is not XML ({error})") from None
        parsed = reader.ixml.raw_xml.find("./USER")
        if parsed is not None:
            user = {child.tag.upper(): (child.text or "") for child in parsed}
    info = reader.info
    bext = reader.bext
    label = _first(user.get("FXNAME"), user.get("DESCRIPTION"), bext.description if bext else None,
                   info.title if info else None, info.comment if info else None)
    keywords = _first(user.get("KEYWORDS"), info.keywords if info else None)
    description = _first(user.get("DESCRIPTION"), bext.description if bext else None)
    if description and description != label:
        keywords = f"{keywords} {description}".strip()
    return Found(label, keywords, _first(user.get("CATID")), _first(info.copyright if info else None),
                 _first(user.get("DESIGNER"), info.artist if info else None))


def _check_chunk_sizes(path: Path) -> None:
    """Refuse chunks that claim more than the file holds or are absurdly large, before a reader trusts them."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        head = handle.read(12)
        if head[:4] not in (b"RIFF", b"RF64") or head[8:12] != b"WAVE":
            raise MetadataError("not a RIFF/WAVE file")
        pos = 12
        while pos + 8 <= size:
            handle.seek(pos)
            header = handle.read(8)
            if len(header) < 8:
                break
            ident, length = header[:4], struct.unpack("<I", header[4:])[0]
            if ident in (b"bext", b"iXML", b"LIST") and (length > MAX_CHUNK_BYTES or pos + 8 + length > size):
                raise MetadataError(f"its {ident.decode('latin-1')} chunk claims {length} bytes")
            if ident == b"data" and head[:4] == b"RIFF":
                pos += 8 + length + (length & 1)
                continue
            pos += 8 + length + (length & 1)


def _read_other(path: Path) -> Found:
    import mutagen

    audio = mutagen.File(str(path))
    if audio is None or audio.tags is None:
        return Found()
    flat: dict[str, str] = {}
    for key, value in audio.tags.items():
        name = str(key).upper()
        if name.startswith("TXXX:"):
            name = name[5:]
        text = value.text if hasattr(value, "text") else value
        flat[name] = str(text[0]) if isinstance(text, list) and text else str(text)
    label = _first(flat.get("FXNAME"), flat.get("TITLE"), flat.get("TIT2"), flat.get("DESCRIPTION"),
                   flat.get("COMMENT"))
    keywords = _first(flat.get("KEYWORDS"), flat.get("GENRE"), flat.get("TCON"))
    description = _first(flat.get("DESCRIPTION"))
    if description and description != label:
        keywords = f"{keywords} {description}".strip()
    return Found(label, keywords, _first(flat.get("CATID")), _first(flat.get("COPYRIGHT"), flat.get("LICENSE")),
                 _first(flat.get("DESIGNER"), flat.get("ARTIST"), flat.get("TPE1")))
