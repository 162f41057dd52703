"""Any label at all becomes a safe, short, ASCII file-name field (property test)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from sfxcli.labels import recipe_for
from sfxcli.output import MAX_NAME_CHARS, output_folder, safe_fx_name
from sfxcli.presets import all_recipes


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=600))
def test_any_label_is_a_safe_name_field(label: str) -> None:
    name = safe_fx_name(label, "fallback")
    assert 0 < len(name) <= MAX_NAME_CHARS
    assert name.isascii() and name == name.strip(" .")
    assert not set(name) & set('/\\\x00:*?"<>|_') and all(ord(c) >= 32 for c in name)
    assert name not in (".", "..")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_label_maps_to_a_recipe(label: str) -> None:
    assert recipe_for(label, all_recipes()).recipe in {r.name for r in all_recipes()}


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab./\\~ :\x01C")), max_size=20))
def test_no_subfolder_leaves_the_project(tmp_path_factory, subfolder: str) -> None:  # type: ignore[no-untyped-def]
    """Whatever the subfolder, a file written there lies inside the project (or the subfolder is refused)."""
    from sfxcli.errors import SfxError
    from sfxcli.output import write_file

    project = tmp_path_factory.mktemp("p")
    try:
        folder = output_folder(project, subfolder)
    except SfxError:
        return
    written = write_file(folder, "probe.txt", b"x")
    assert written.resolve().is_relative_to(Path(project).resolve())
    assert all(part not in ("", ".", "..") and not part.startswith((".", "~")) for part in folder.parts)
