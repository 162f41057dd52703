"""The built-in library as shipped: enough real recordings, every one readable, licensed, credited and labelled."""

from __future__ import annotations

import csv
from collections import Counter

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


def test_four_in_five_ucs_categories_have_at_least_three_recordings(rows: list[dict[str, str]]) -> None:
    category_of = {c.catid: c.category for c in ucs_categories()}
    assert all(r["catid"] in category_of for r in rows if r["catid"])
    counts = Counter(category_of[r["catid"]] for r in rows if r["catid"])
    names = {c.category for c in ucs_categories()}
    covered = {n for n in names if counts[n] >= 3}
    assert len(covered) >= 0.8 * len(names), sorted(names - covered)


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
    from sfxcli.library.curate import SHARED_CATIDS
    from sfxcli.library.debian import PACKAGES

    known = {c.catid for c in ucs_categories()}
    names = {c.category for c in ucs_categories()}
    assert {catid for _, catid in SHARED_CATIDS} <= known
    for package in PACKAGES:
        assert {catid for _, catid in package.catids} <= known, package.name
        assert set(package.ucs) <= names, package.name
