"""Map a free-text label ("door creak") onto a recipe and a UCS category.

Words are folded to ASCII, lower-cased and crudely stemmed so that
"creaking", "creaky" and "creaks" all meet "creak". Recipes match on their
own keywords; the Universal Category System (752 categories with synonyms,
shipped in ``sfxcli/data/ucs.json``) names the file and, when no recipe
keyword matches, picks the recipe that serves that category.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from sfxcli.presets import Recipe
from sfxcli.settings import DATA_DIR, cache_dir

FALLBACK_RECIPE = "texture"
INDEX_VERSION = 1  # bump when tokens() or stem() change


@dataclass(frozen=True)
class UcsCategory:
    catid: str
    category: str
    subcategory: str
    synonyms: tuple[str, ...]


@dataclass(frozen=True)
class RecipeChoice:
    recipe: str
    catid: str
    reason: str  # a sentence for the user: why this recipe
    ucs_category: UcsCategory | None
    fallback: bool  # True when nothing in the label matched


_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def fold(text: str) -> str:
    """ASCII-fold and lower-case; everything but letters and digits becomes a space."""
    ascii_text = text if text.isascii() else unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _NOT_ALNUM.sub(" ", ascii_text.lower()).strip()


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", ""), ("y", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "es" and not word[:-2].endswith(("sh", "ch", "ss", "x", "z")):
                continue
            if suffix == "s" and word.endswith("ss"):
                continue
            word = word[: -len(suffix)] + keep
            break
    if len(word) > 4 and word[-1] == word[-2] and word[-1] not in "sl":  # "popp" -> "pop"
        word = word[:-1]
    return word


def tokens(text: str) -> list[str]:
    return [stem(word) for word in fold(text).split()]


@lru_cache(maxsize=1)
def ucs_categories() -> tuple[UcsCategory, ...]:
    data = json.loads((DATA_DIR / "ucs.json").read_text())
    return tuple(
        UcsCategory(c["catid"], c["category"], c["subcategory"], tuple(c["synonyms"]))
        for c in data["categories"]
        if c["category"] != "ARCHIVED"
    )


@lru_cache(maxsize=1)
def _ucs_index() -> tuple[tuple[UcsCategory, frozenset[str], frozenset[str], frozenset[str]], ...]:
    """Each category with its stemmed words; kept as JSON in the cache folder, since stemming
    20,000 synonyms costs a tenth of a second that every `sfx gen` would otherwise pay."""
    import os

    categories = ucs_categories()
    source = DATA_DIR / "ucs.json"
    stat = source.stat()
    cache = cache_dir() / (
        f"ucs-words-{INDEX_VERSION}-{stat.st_size}-{stat.st_mtime_ns}.json")
    words: list[list[list[str]]] | None = None
    try:
        loaded = json.loads(cache.read_text(encoding="utf-8"))
        if isinstance(loaded, list) and len(loaded) == len(categories):
            words = loaded
    except (OSError, ValueError):
        pass
    if words is None:
        words = [[tokens(c.category), tokens(c.subcategory), [t for s in c.synonyms for t in tokens(s)]]
                 for c in categories]
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(words), encoding="utf-8")
            os.replace(tmp, cache)
        except OSError:
            pass  # a read-only cache only costs speed
    return tuple((c, frozenset(w[0]), frozenset(w[1]), frozenset(w[2])) for c, w in zip(categories, words))


def ucs_for(label: str, within: tuple[str, ...] = ()) -> tuple[UcsCategory | None, float]:
    """Best UCS category for a label and its score (0 when nothing matched).

    ``within`` (CatIDs or category names) restricts the search, so that a
    label already tied to a recipe is named inside that recipe's categories.
    """
    words = tokens(label)
    if not words:
        return None, 0.0
    best: tuple[float, tuple[int, str], UcsCategory | None] = (0.0, (0, ""), None)
    for category, cat_words, sub_words, synonyms in _ucs_index():
        if within and category.catid not in within and category.category not in within:
            continue
        score = 0.0
        for position, word in enumerate(words):
            weight = 1.0 + 0.5 * position / len(words)  # the head noun tends to come last: "door creak"
            if word in sub_words:
                score += 2.0 * weight
            elif word in cat_words:
                score += 1.5 * weight
            elif word in synonyms:
                score += 1.0 * weight
        # ties go to the earlier entry of ``within`` (a recipe lists its main category first), then by CatID
        rank = _within_rank(category, within)
        if score > best[0] or (score == best[0] and score > 0 and (rank, category.catid) < best[1]):
            best = (score, (rank, category.catid), category)
    return best[2], best[0]


def _within_rank(category: UcsCategory, within: tuple[str, ...]) -> int:
    for index, entry in enumerate(within):
        if entry in (category.catid, category.category):
            return index
    return len(within)


def _recipe_score(recipe: Recipe, words: list[str], folded: str) -> float:
    keywords = {stem(k) for k in recipe.keywords if " " not in k}
    phrases = [fold(k) for k in recipe.keywords if " " in k]
    score = 0.0
    for position, word in enumerate(words):
        if word in keywords:
            score += 2.0 * (1.0 + 0.5 * position / len(words))
    for phrase in phrases:
        if re.search(rf"\b{re.escape(phrase)}\b", folded):
            score += 3.0 * len(phrase.split())
    if stem(recipe.name) in words:
        score += 1.0
    return score


def recipe_for(label: str, recipes: tuple[Recipe, ...]) -> RecipeChoice:
    """Choose the recipe and CatID for a label; never fails."""
    words = tokens(label)
    folded = fold(label)
    ucs, ucs_score = ucs_for(label)
    # one exact synonym is enough for a one-word label ("kerboom"), longer labels need more
    enough = min(2.0, float(len(words)))
    ucs = ucs if ucs_score >= enough else None
    by_name = {r.name: r for r in recipes}
    scored = sorted(((_recipe_score(r, words, folded), r.name) for r in recipes), key=lambda s: (-s[0], s[1]))
    if scored and scored[0][0] > 0:
        recipe = by_name[scored[0][1]]
        own, own_score = ucs_for(label, (recipe.catid, *recipe.ucs))
        if own is not None and own_score >= enough:
            ucs = own
        hits = [w for w in fold(label).split() if stem(w) in {stem(k) for k in recipe.keywords} or stem(w) == stem(recipe.name)]
        reason = f"'{label}' matched recipe '{recipe.name}'" + (f" on {', '.join(repr(h) for h in hits)}" if hits else "")
        return RecipeChoice(recipe.name, ucs.catid if ucs else recipe.catid, reason, ucs, False)
    if ucs is not None:
        described = f"'{label}' is UCS {ucs.catid} ({ucs.category} / {ucs.subcategory})"
        for recipe in recipes:
            if ucs.catid in recipe.ucs or ucs.category in recipe.ucs:
                return RecipeChoice(recipe.name, ucs.catid, f"{described}, served by recipe '{recipe.name}'", ucs, False)
        # no recipe claims the category: let its own words and synonyms choose
        words = tokens(" ".join((ucs.subcategory, *ucs.synonyms, ucs.category)))
        text = fold(" ".join((ucs.subcategory, *ucs.synonyms)))
        scored = sorted(((_recipe_score(r, words, text), r.name) for r in recipes), key=lambda s: (-s[0], s[1]))
        if scored and scored[0][0] > 0:
            name = scored[0][1]
            return RecipeChoice(name, ucs.catid, f"{described}, whose synonyms point to recipe '{name}'", ucs, False)
    fallback = by_name.get(FALLBACK_RECIPE, recipes[0])
    reason = (
        f"no recipe matches '{label}'; using the general-purpose recipe '{fallback.name}' "
        "(pick one with --preset; see `sfx presets list`)"
    )
    return RecipeChoice(fallback.name, ucs.catid if ucs else fallback.catid, reason, ucs, True)
