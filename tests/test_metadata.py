"""Files a sound library accepts: BWF, iXML, INFO and Vorbis comments, read back by independent readers;
users' libraries found by their embedded metadata; broken chunks indexed by name."""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import REPO

HUM = str(REPO / "examples" / "hum.wav")
PINNED = ("--seed", "3", "--creator", "JD", "--source", "Haunted House", "--designer", "Jo Doe",
          "--position", "12.5", "--created", "2026-12-03T09:12:00")


def _gen(run_cli, project: Path, *extra: str) -> list[Path]:  # type: ignore[no-untyped-def]
    code, out, err = run_cli("gen", HUM, "door creak", "-p", str(project), "-n", "1", *PINNED, *extra)
    assert code == 0, err
    return [Path(line) for line in out.splitlines()]


def test_wav_carries_bext_ixml_and_info_that_wavinfo_reads(run_cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    from wavinfo import WavInfoReader

    path = _gen(run_cli, project, "--sample-rate", "48000")[0]
    assert path.name == "DOORCreak_door creak_JD_Haunted House_001.wav"
    info = WavInfoReader(str(path))
    assert info.bext.description.startswith("door creak (sfx ") and "recipe creak" in info.bext.description
    assert info.bext.originator == "Jo Doe"
    assert len(info.bext.originator_ref) == 32 and info.bext.originator_ref.startswith("SFX")
    assert (info.bext.originator_date, info.bext.originator_time) == ("2026-12-03", "09:12:00")
    assert info.bext.time_reference == 12.5 * 48000
    assert info.bext.coding_history.startswith("A=PCM,F=48000,W=24,M=mono,T=sfx")
    user = {child.tag: child.text for child in info.ixml.raw_xml.find("./USER")}
    assert user["CATID"] == "DOORCreak" and user["CATEGORY"] == "DOORS" and user["SUBCATEGORY"] == "CREAK"
    assert user["FXNAME"] == "door creak" and user["CREATORID"] == "JD" and user["SOURCEID"] == "Haunted House"
    assert user["DESIGNER"] == "Jo Doe" and "door" in user["KEYWORDS"] and "creak" in user["KEYWORDS"]
    assert "seed" in user["NOTES"] and "reproduce: sfx gen" in user["NOTES"]
    aswg = {child.tag: child.text for child in info.ixml.raw_xml.find("./ASWG")}
    assert aswg["isDesigned"] == "true" and aswg["catId"] == "DOORCreak" and aswg["fxName"] == "door creak"
    assert info.info.title == "door creak" and info.info.artist == "Jo Doe" and "door" in info.info.keywords
    sidecar = json.loads(path.with_suffix(".json").read_text())
    assert sidecar["output"]["time_reference_samples"] == 600000


def test_metadata_leaves_the_samples_bit_identical(run_cli, project: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """The same file written without metadata holds exactly the same samples as the tagged one."""
    import sfxcli.output as output

    tagged = _gen(run_cli, project)[0]
    monkeypatch.setattr(output, "embed", lambda data, fmt, tags: data)
    plain = _gen(run_cli, project, "--subfolder", "plain")[0]
    assert tagged.read_bytes() != plain.read_bytes()
    a, rate_a = sf.read(tagged, dtype="int32")
    b, rate_b = sf.read(plain, dtype="int32")
    assert rate_a == rate_b and np.array_equal(a, b)
    assert sf.info(tagged).subtype == "PCM_24"


@pytest.mark.parametrize("fmt", ["flac", "ogg", "mp3"])
def test_flac_ogg_and_mp3_carry_the_same_fields(run_cli, project: Path, fmt: str) -> None:  # type: ignore[no-untyped-def]
    import mutagen

    path = _gen(run_cli, project, "--format", fmt)[0]
    tags = mutagen.File(str(path)).tags
    flat = {str(k).upper().removeprefix("TXXX:"): (v.text[0] if hasattr(v, "text") else v[0]) for k, v in tags.items()}
    title = flat.get("TITLE") or flat.get("TIT2")
    assert str(title) == "door creak" and flat["CATID"] == "DOORCreak" and flat["CREATORID"] == "JD"
    assert flat["SOURCEID"] == "Haunted House" and flat["TIME_REFERENCE"] == str(int(12.5 * 48000))
    assert "recipe creak" in flat["DESCRIPTION"]
    assert len(sf.read(path)[0]) > 0  # still decodes


def test_values_that_cannot_go_into_a_field_are_mended_or_refused(run_cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    from wavinfo import WavInfoReader

    label = "Türe knarrt\tlangsam " + "sehr " * 80  # accents, a tab and 400+ characters
    code, out, err = run_cli("gen", HUM, label, "-p", str(project), "-n", "1", "--seed", "1")
    assert code == 0, err
    info = WavInfoReader(out.strip())
    assert len(info.bext.description) == 256 and info.bext.description.isascii()
    assert info.bext.description.startswith("Ture knarrt langsam")
    fxname = {c.tag: c.text for c in info.ixml.raw_xml.find("./USER")}["FXNAME"]
    assert "\t" not in fxname and len(fxname) <= 60
    for flag, value, needle in (("--creator", "J_D", "UCS ids must be"), ("--source", "a/b", "UCS ids must be"),
                                ("--designer", "Jo\nDoe", "printable"), ("--created", "yesterday", "ISO 8601")):
        code, out, err = run_cli("gen", HUM, "creak", "-p", str(project), flag, value)
        assert code == 2 and needle in err and out == "", (flag, err)


def test_creator_and_source_come_from_the_config_file(run_cli, project: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.toml"
    config.write_text('creator = "AB"\nsource = "Spaceship"\ndesigner = "Ann Berg"\n')
    monkeypatch.setenv("SFX_CONFIG", str(config))
    code, out, err = run_cli("gen", HUM, "laser", "-p", str(project), "-n", "2")
    assert code == 0, err
    names = [Path(line).name for line in out.splitlines()]
    assert names == ["LASRGun_laser_AB_Spaceship_001.wav", "LASRGun_laser_AB_Spaceship_002.wav"]
    code, out, _ = run_cli("gen", HUM, "laser", "-p", str(project), "-n", "1")
    assert Path(out.strip()).name == "LASRGun_laser_AB_Spaceship_003.wav"  # numbering goes on, never reused


# -- users' libraries by their own metadata ---------------------------------------------------------------

def _tagged_wav(path: Path, fxname: str, keywords: str) -> None:
    """A WAV as a commercial library ships it: a meaningless file name, its description in iXML and bext."""
    from sfxcli.metadata import Tags, embed_wav

    buffer = io.BytesIO()
    sf.write(buffer, 0.3 * np.sin(np.arange(24000) / 7.0), 48000, format="WAV", subtype="PCM_16")
    tags = Tags(fx_name=fxname, catid="", category="", subcategory="", description=fxname,
                keywords=tuple(keywords.split()), creator_id="VND", source_id="Lib", designer="", library="Lib",
                notes="", originator_reference="X", date="2020-01-01", time="00:00:00", time_reference=0,
                sample_rate=48000, channels=1, bits=16, engine="library")
    path.write_bytes(embed_wav(buffer.getvalue(), tags))


def test_a_library_is_found_by_the_words_in_its_embedded_metadata(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    import mutagen.flac

    library = tmp_path / "vendor"
    library.mkdir()
    _tagged_wav(library / "VND_000123.wav", "Old barn door creak", "wood hinge")
    _tagged_wav(library / "VND_000124.wav", "Glass bottle smash", "shatter")
    sf.write(library / "VND_000125.flac", 0.3 * np.sin(np.arange(24000) / 3.0), 48000)
    flac = mutagen.flac.FLAC(str(library / "VND_000125.flac"))
    flac["TITLE"] = ["Thunder rumble distant"]
    flac.save()
    code, out, err = run_cli("library", "search", "door creak", "--library", str(library), "--json")
    assert code == 0, err
    hits = json.loads(out)
    assert Path(hits[0]["path"]).name == "VND_000123.wav" and hits[0]["label"] == "Old barn door creak"
    code, out, _ = run_cli("library", "search", "thunder", "--library", str(library), "--json")
    assert Path(json.loads(out)[0]["path"]).name == "VND_000125.flac"


def _broken(path: Path, ident: bytes, payload: bytes, claimed: int | None = None) -> None:
    buffer = io.BytesIO()
    sf.write(buffer, 0.3 * np.sin(np.arange(8000) / 5.0), 16000, format="WAV", subtype="PCM_16")
    data = buffer.getvalue()
    chunk = ident + struct.pack("<I", len(payload) if claimed is None else claimed) + payload + b"\x00" * (len(payload) % 2)
    body = data[12:36] + chunk + data[36:]
    path.write_bytes(b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WAVE" + body)


def test_broken_chunks_are_indexed_by_name_with_one_warning_each(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    library = tmp_path / "broken"
    library.mkdir()
    _broken(library / "truncated bext.wav", b"bext", b"short")
    _broken(library / "not xml.wav", b"iXML", b"<BWFXML><USER><FXNAME>un closed")
    _broken(library / "huge chunk.wav", b"iXML", b"<x/>", claimed=2**31)
    _broken(library / "latin1 info.wav", b"LIST", b"INFOINAM\x06\x00\x00\x00\xe9t\xe9\xff\x00\x00")
    code, out, err = run_cli("library", "index", str(library), "--no-vectors")
    assert code == 0 and "Traceback" not in err, err
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(warnings) <= 4 and all("indexed by its file name" in w for w in warnings)
    for words, name in (("truncated", "truncated bext.wav"), ("xml", "not xml.wav")):
        code, out, _ = run_cli("library", "search", words, "--library", str(library), "--json")
        assert [Path(h["path"]).name for h in json.loads(out)][:1] == [name]
    # a chunk that claims 2 GB hides the audio from every decoder: skipped and said so, never a crash
    code, out, _ = run_cli("library", "index", str(library), "--no-vectors", "--json")
    assert "huge chunk.wav" in [s["path"] for s in json.loads(out)["skipped"]]
    code, out, err = run_cli("library", "index", str(library), "--no-vectors")
    assert "warning:" not in err  # unchanged files are not read again


def test_an_unchanged_library_is_not_read_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sfxcli.library.index as index

    library = tmp_path / "lib"
    library.mkdir()
    for i in range(6):
        sf.write(library / f"door {i}.wav", 0.2 * np.ones(4000), 16000)
        (library / f"door {i}.json").write_text(json.dumps({"label": f"door creak {i}"}))
    index.update_index(library)
    calls: list[Path] = []
    real = index.describe
    monkeypatch.setattr(index, "describe", lambda file, *a, **k: calls.append(file) or real(file, *a, **k))
    entries, report = index.update_index(library)
    assert calls == [] and report.unchanged == 6 and len(entries) == 6
    (library / "door 2.json").write_text(json.dumps({"label": "gate squeak"}))
    entries, report = index.update_index(library)
    assert [p.name for p in calls] == ["door 2.wav"] and report.updated == 1
    assert next(e for e in entries if e.path == "door 2.wav").label == "gate squeak"
    (library / "manifest.csv").write_text("path,label\ndoor 3.wav,cellar hatch\n")
    calls.clear()
    index.update_index(library)
    assert len(calls) == 6  # a manifest can relabel any file: all are described again (none probed again)
