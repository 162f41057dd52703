"""Free-text labels map onto recipes and UCS categories."""

from __future__ import annotations

import pytest

from sfxcli.labels import FALLBACK_RECIPE, recipe_for, ucs_for, tokens
from sfxcli.presets import all_recipes


@pytest.mark.parametrize(
    "label,recipe,catid",
    [
        ("door creak", "creak", "DOORCreak"),
        ("Creaking floorboards", "creak", None),
        ("whooshes", "whoosh", None),
        ("sword swoosh", "whoosh", None),
        ("car engine revving", "engine", None),
        ("big explosion", "explosion", None),
        ("laser blaster", "laser", None),
        ("police siren", "siren", None),
        ("campfire crackle", "fire", None),
        ("footsteps on gravel", "footsteps", None),
        ("glass shatter", "glass", None),
        ("monster growl", "growl", None),
        ("dripping tap", "drips", None),
        ("neon buzz", "electric-hum", None),
        ("ratchet clicks", "ratchet", None),
        ("heavy body fall", "thud", None),
        ("anvil clang", "metal", None),
    ],
)
def test_labels_pick_the_expected_recipe(label: str, recipe: str, catid: str | None) -> None:
    match = recipe_for(label, all_recipes())
    assert match.recipe == recipe, match.reason
    assert not match.fallback
    if catid:
        assert match.catid == catid


def test_ucs_synonyms_pick_a_recipe_when_no_keyword_matches() -> None:
    match = recipe_for("tornado", all_recipes())
    assert not match.fallback
    assert "UCS" in match.reason or match.recipe in {"wind"}


def test_unknown_label_falls_back_and_says_so() -> None:
    match = recipe_for("flibbertigibbet", all_recipes())
    assert match.fallback and match.recipe == FALLBACK_RECIPE
    assert "flibbertigibbet" in match.reason and "--preset" in match.reason


def test_stemming_joins_word_forms() -> None:
    assert tokens("creaks creaking creaky") == ["creak", "creak", "creak"]
    assert ucs_for("DOOR CREAK")[0].catid == "DOORCreak"  # type: ignore[union-attr]


def test_hostile_labels_still_match_something() -> None:
    for label in ("../../etc/passwd", "/abs/path", "a\x00b", "🔥🔥 fire", "x" * 500):
        match = recipe_for(label, all_recipes())
        assert match.recipe in {r.name for r in all_recipes()}
