"""The built-in library as shipped: enough real recordings, every one readable, licensed, credited and labelled."""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

import pytest
import soundfile as sf

from sfxcli.labels import ucs_categories
from sfxcli.library.curate import MAX_SECONDS, SIZE_BUDGET_BYTES, licence_of
from sfxcli.library.debian import ALLOWED, LICENCE_LINKS, holder, licence_name, matches, stanzas
from sfxcli.library.store import DEFAULT_LIBRARY


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    with open(DEFAULT_LIBRARY / "manifest.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_at_least_1500_recordings_that_all_exist_and_read(rows: list[dict[str, str]]) -> None:
    assert len(rows) >= 1500
    assert len({r["path"] for r in rows}) == len(rows)
    for row in rows:
        info = sf.info(str(DEFAULT_LIBRARY / row["path"]))
        assert info.channels == 1 and info.samplerate == 44100, row["path"]
        assert 0.05 <= info.duration <= MAX_SECONDS + 0.01, row["path"]
    on_disk = {p.name for p in DEFAULT_LIBRARY.glob("*.ogg")}
    assert on_disk == {r["path"] for r in rows}  # nothing shipped that the manifest does not credit


def test_every_row_has_an_allowed_licence_an_author_a_source_and_a_label(rows: list[dict[str, str]]) -> None:
    assert {r["license"] for r in rows} <= ALLOWED
    assert not {r["license"] for r in rows} & {"CC BY-SA 3.0", "CC BY-SA", "CC BY-NC", ""}
    for row in rows:
        assert row["author"].strip() and row["source"].strip() and row["label"].strip(), row


def test_credits_list_every_file_with_its_licence_and_author(rows: list[dict[str, str]]) -> None:
    credits = (DEFAULT_LIBRARY / "CREDITS.md").read_text(encoding="utf-8")
    lines = {line.split(" | ")[0].lstrip("| "): line for line in credits.splitlines() if line.startswith("| ")}
    for row in rows:
        line = lines[row["path"]]
        assert f"| {row['license']} |" in line and row["author"].replace("|", "/") in line
    for name in {r["license"] for r in rows}:
        assert LICENCE_LINKS[name] in credits


def test_every_row_has_a_real_ucs_catid_and_a_label_a_person_would_type(rows: list[dict[str, str]]) -> None:
    known = {c.catid for c in ucs_categories()}
    assert not [r["path"] for r in rows if r["catid"] not in known]
    vague = [r["label"] for r in rows if not any(len(w) >= 3 and not w.isdigit() for w in re.findall(r"[a-z0-9]+", r["label"]))]
    assert not vague  # "2", "ab 7": a word of at least three letters names the sound
    assert all(r["label"] == r["label"].strip().lower() for r in rows)


def test_four_in_five_ucs_categories_have_at_least_three_recordings(rows: list[dict[str, str]]) -> None:
    category_of = {c.catid: c.category for c in ucs_categories()}
    counts = Counter(category_of[r["catid"]] for r in rows if r["catid"])
    names = {c.category for c in ucs_categories()}
    covered = {n for n in names if counts[n] >= 3}
    assert len(covered) >= 0.80 * len(names), sorted(names - covered)


def test_the_folder_keeps_to_its_size_budget() -> None:
    assert sum(p.stat().st_size for p in DEFAULT_LIBRARY.iterdir() if p.is_file()) <= SIZE_BUDGET_BYTES


COPYRIGHT = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: game

Files: *
Copyright: 2004-2010 The Game Team <team@example.org>
License: GPL-2+

Files: data/sfx/*
Copyright: 2009 Someone
License: CC-BY-SA-3.0

Files: data/sfx/boom.ogg
Copyright: 2011 Other Person
License: CC-BY-SA-3.0 or GPL-3

Files: data/sfx/zap.ogg
Copyright: 2012 Third
License: CC0-1.0
"""


def test_the_last_matching_copyright_stanza_decides_and_only_allowed_licences_pass() -> None:
    from sfxcli.library.debian import file_licence

    found = stanzas(COPYRIGHT)
    assert found is not None and len(found) == 4
    base = "usr/share/games/game/data/sfx"
    assert file_licence(f"{base}/boom.ogg", found) == ("GPL-3.0-only", "Other Person")
    assert file_licence(f"{base}/zap.ogg", found) == ("CC0", "Third")
    assert file_licence(f"{base}/hiss.ogg", found)[0] is None  # CC BY-SA 3.0: not taken
    assert file_licence("usr/share/games/game/sounds/x.wav", found)[0] == "GPL-2.0-or-later"
    assert stanzas("This package was debianized by ...\nLicense: GPL") is None  # prose: the table must say
    assert matches("usr/share/x/sounds/a b.wav", "sounds/a?b.wav") and not matches("usr/share/x/a.wav", "sounds/*")
    assert licence_name("GPL-2") is None and licence_name("GFDL-1.3") is None and licence_name("CC-BY-SA-3.0") is None
    assert holder("2004-2010 The Game Team <team@example.org>\n (c) 2011, Other") == "The Game Team; Other"


@pytest.mark.parametrize("text,name", [("CC0", "CC0"), ("CC BY 3.0", "CC BY 3.0"), ("CC BY 2.0", "CC BY 2.0"),
                                       ("Creative Commons Attribution 3.0 Unported", "CC BY 3.0"),
                                       ("CC BY-SA 4.0", "CC BY-SA 4.0"), ("CC BY-SA 3.0", None), ("OGA BY 3.0", None),
                                       ("Creative Commons Attribution-ShareAlike 3.0 Unported", None),
                                       ("per-mod README/license.txt (CC0 / CC BY 3.0 / CC BY-SA 3.0)", None)])
def test_collection_licences_are_read_strictly(text: str, name: str | None) -> None:
    assert licence_of(text) == name


def test_hand_checked_catids_are_real_ucs_catids() -> None:
    from sfxcli.library.catids import RULES
    from sfxcli.library.debian import PACKAGES

    known = {c.catid for c in ucs_categories()}
    names = {c.category for c in ucs_categories()}
    assert {catid for _, catid in RULES} <= known
    for package in PACKAGES:
        assert {catid for _, catid in package.catids} <= known, package.name
        assert set(package.ucs) <= names, package.name


@pytest.mark.parametrize("label,catid", [("large explosion", "EXPLReal"), ("busy city street", "AMBUrbn"),
                                         ("wooden crate falling", "WOODImpt"), ("window minimize swoosh", "UIMvmt"),
                                         ("error alert", "UIAlert"), ("fire arrow whoosh", "FIREWhsh"),
                                         ("bow arrow whoosh", "SWSH"), ("wolf pain grunt", "ANMLWdog"),
                                         ("man pain grunt", "VOXEfrt"), ("splash cymbal hard", "MUSCPerc"),
                                         ("footstep water splash", "FEETHmn"), ("water pump", "MACHPump"),
                                         ("windmill creak", "MACHAntq"), ("stone chisel cutting", "ROCKImpt"),
                                         ("paper tearing", "PAPRRip"), ("playing card pick up", "PAPRHndl"),
                                         ("snowball throw splat", "SNOWImpt"), ("tornado roar", "NATDTorn")])
def test_the_hand_checked_table_files_labels_where_a_sound_designer_would(label: str, catid: str) -> None:
    from sfxcli.library.catids import catid_for

    assert catid_for(label) == (catid, "table")
    assert catid_for(label, fixed=(("explosion", "EXPLDsgn"),))[0] == ("EXPLDsgn" if "explosion" in label else catid)


@pytest.mark.parametrize("package,path,label", [
    ("scorched3d-data", "wav/explosions/large.wav", "large explosion"),
    ("scorched3d-data", "wav/explosions/xlarge.wav", "huge explosion"),
    ("scorched3d-data", "wav/misc/gull2.wav", "seagull"),
    ("endless-sky-data", "sounds/atomic huge~.wav", "huge atomic explosion"),
    ("endless-sky-data", "sounds/final explosion small.wav", "small ship destruction explosion"),
    ("opencity-data", "sound/wroum.wav", "car vroom pass by"),
    ("granatier", "sounds/clear.wav", ""),  # says too little: not taken
    ("wesnoth-1.16-data", "sounds/human-female-die-2.ogg", "woman death cry"),
    ("wesnoth-1.16-data", "sounds/mace-miss.ogg", "mace whoosh"),
    ("kpat", "usr/share/kpat/sounds/card-down.ogg", "playing card put down"),
])
def test_package_tables_label_cryptic_names_or_leave_them_out(package: str, path: str, label: str) -> None:
    from sfxcli.library.debian import PACKAGES, label_for

    assert label_for(path, next(p for p in PACKAGES if p.name == package)) == label


def test_tux_paint_magic_sounds_carry_their_own_credits_not_the_blanket_licence(rows: list[dict[str, str]]) -> None:
    magic = [r for r in rows if "tuxpaint-plugins-default" in r["source"]]
    assert magic and all(r["license"] in ("CC BY 3.0", "public domain") for r in magic)
    assert all("Koenig" in r["author"] for r in magic if r["license"] == "CC BY 3.0")


def test_collection_labels_are_fixed_by_path_and_cleaned() -> None:
    from sfxcli.library.curate import collection_label

    assert collection_label("mod-sounds/sounds_fire_crackle.ogg", "fire crackle") == "fire crackle"
    assert collection_label("mod-sounds/sounds_node_step_snow.3.ogg", "step snow") == "footstep snow"
    assert collection_label("openttd-opensfx/osfx_66_tropical_bird_1.wav", "Tropical: Bird (1)") == "tropical bird"
    assert collection_label("openttd-opensfx/osfx_00_good_year.wav", "Good Year") == ""
    assert collection_label("x/perc_gong_2.flac", "perc gong 2") == "gong"


def _tone(path: Path, hz: float, seed: int) -> None:
    import numpy as np

    rng = np.random.default_rng(seed)
    t = np.arange(int(0.4 * 22050)) / 22050
    sf.write(path, 0.5 * np.sin(2 * np.pi * hz * t) * np.exp(-4 * t) + 0.01 * rng.standard_normal(len(t)), 22050)


def test_a_rebuild_keeps_unchanged_oggs_byte_for_byte_and_renames_relabelled_ones(tmp_path: Path) -> None:
    from sfxcli.library.curate import Source, build, write_records

    for i, hz in enumerate((220.0, 990.0, 3000.0)):
        _tone(tmp_path / f"in{i}.wav", hz, i)
    sources = [Source(label, "CC0", "someone", f"test {i}", tmp_path / f"in{i}.wav")
               for i, label in enumerate(("door knock", "metal clang", "glass break"))]
    dest = tmp_path / "lib"
    first = build(sources, dest)
    write_records(first.rows, dest)
    assert (first.converted, first.unchanged) == (3, 0)
    before = {p.name: p.read_bytes() for p in dest.glob("*.ogg")}
    again = build(sources, dest)
    assert (again.converted, again.unchanged, again.renamed) == (0, 3, 0)
    assert {p.name: p.read_bytes() for p in dest.glob("*.ogg")} == before
    relabelled = [sources[0], Source("anvil clang", "CC0", "someone", "test 1", tmp_path / "in1.wav"), sources[2]]
    write_records(again.rows, dest)
    third = build(relabelled, dest)
    write_records(third.rows, dest)
    assert (third.converted, third.unchanged, third.renamed) == (0, 3, 1)
    after = {p.name: p.read_bytes() for p in dest.glob("*.ogg")}
    assert set(after) == {"door-knock-01.ogg", "anvil-clang-01.ogg", "glass-break-01.ogg"}
    assert after["anvil-clang-01.ogg"] == before["metal-clang-01.ogg"]
    _tone(tmp_path / "in2.wav", 1500.0, 7)  # a changed source is converted again
    fourth = build(relabelled, dest)
    assert (fourth.converted, fourth.unchanged) == (1, 2)
    assert (dest / "glass-break-01.ogg").read_bytes() != before["glass-break-01.ogg"]
