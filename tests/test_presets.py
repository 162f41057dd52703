"""Recipes and FX chains load, validate, compose, and cover what designers ask for."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sfxcli.errors import PresetError
from sfxcli.labels import ucs_categories
from sfxcli.presets import all_recipes, fx_names, load_fx, load_recipe, recipe_names

FAMILIES = {
    "creaks and squeaks", "whooshes", "impacts and thuds", "explosions and booms", "engines and motors",
    "sci-fi lasers and zaps", "electrical hums and buzzes", "alarms and sirens", "wind", "water and drips",
    "fire crackle", "footsteps", "mechanical clicks and ratchets", "glass and metal hits", "animal-like growls",
}


def test_at_least_twenty_recipes_cover_every_family() -> None:
    recipes = all_recipes()
    assert len(recipes) >= 20
    assert FAMILIES <= {r.family for r in recipes}


def test_catids_and_ucs_references_exist() -> None:
    catids = {c.catid for c in ucs_categories()}
    categories = {c.category for c in ucs_categories()}
    for recipe in all_recipes():
        assert recipe.catid in catids, recipe.name
        for ref in recipe.ucs:
            assert ref in catids or ref in categories, (recipe.name, ref)


def test_extends_inherits_and_overrides() -> None:
    boom, explosion = load_recipe("boom"), load_recipe("explosion")
    assert boom.fx == explosion.fx  # inherited
    assert boom.keywords != explosion.keywords  # overridden
    assert boom.tail_seconds == 1.0


def test_fx_chain_include_composes() -> None:
    chain = load_fx("room-small")
    assert [e.type for e in chain.effects] == ["HighpassFilter", "Reverb"]
    assert all(load_fx(name).effects for name in fx_names())


def _tree(tmp_path: Path, recipe: str, fx: str = "") -> Path:
    (tmp_path / "recipes").mkdir()
    (tmp_path / "fx").mkdir()
    (tmp_path / "recipes" / "r.toml").write_text(recipe)
    if fx:
        (tmp_path / "fx" / "c.toml").write_text(fx)
    return tmp_path


GOOD_LAYER = '[[layers]]\nkind = "noise"\n'
BASE = 'description = "d"\nfamily = "f"\ncatid = "DOORCreak"\n'


@pytest.mark.parametrize(
    "body,fx,needle",
    [
        (BASE + 'colour = 1\n' + GOOD_LAYER, "", "unknown key 'colour'"),
        (BASE + GOOD_LAYER + 'cutoff_hz = "high"\n', "", "cutoff_hz"),
        (BASE + '[[layers]]\nkind = "laser"\n', "", "kind must be one of"),
        (BASE + GOOD_LAYER + 'cutoff_from = "mood"\n', "", "expected one of"),
        (BASE, "", "at least one [[layers]]"),
        (BASE + 'fx = ["c"]\n' + GOOD_LAYER, '[[effects]]\ntype = "Reverb"\nroom_sise = 0.3\n', "room_sise"),
        (BASE + 'fx = ["c"]\n' + GOOD_LAYER, '[[effects]]\ntype = "Fuzzbox"\n', "unknown effect 'Fuzzbox'"),
        (BASE + 'fx = ["gone"]\n' + GOOD_LAYER, "", "no FX chain named 'gone'"),
        ('extends = "r"\n' + BASE + GOOD_LAYER, "", "extends itself"),
        (BASE + GOOD_LAYER + "this is not toml", "", "invalid TOML"),
    ],
)
def test_invalid_presets_name_the_file_and_key(tmp_path: Path, body: str, fx: str, needle: str) -> None:
    root = _tree(tmp_path, body, fx)
    with pytest.raises(PresetError) as caught:
        load_recipe("r", root)
    assert needle in caught.value.message
    assert str(root) in caught.value.message or "no FX chain" in caught.value.message


def test_presets_cli_lists_and_shows(run_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run_cli("presets", "list", "--json")
    assert code == 0
    listing = json.loads(out)
    assert {r["name"] for r in listing["recipes"]} == set(recipe_names())
    code, out, _ = run_cli("presets", "show", "creak", "--json")
    assert code == 0 and json.loads(out)["name"] == "creak"
    code, out, _ = run_cli("presets", "show", "room-small")
    assert code == 0 and "Reverb" in out
    code, _, err = run_cli("presets", "show", "nonexistent")
    assert code == PresetError.exit_code and err.startswith("error: no recipe or FX chain")


def test_presets_readme_documents_every_key() -> None:
    from dataclasses import fields

    from sfxcli.presets import LAYER_KINDS, Generative, Recipe, Variation

    text = (Path(__file__).resolve().parent.parent / "presets" / "README.md").read_text()
    for cls in (Recipe, Variation, Generative, *LAYER_KINDS.values()):
        for f in fields(cls):
            if f.name not in ("source_file", "layers", "variation", "generative", "kind"):
                assert f"`{f.name}`" in text, (cls.__name__, f.name)
