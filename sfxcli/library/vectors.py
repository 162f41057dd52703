"""Rebuild the shipped sentence vectors (run after changing the UCS data or the default library).

    python -m sfxcli.library.vectors

Writes ``sfxcli/data/text_vocab.npz`` (every word of the UCS list and of the
default library's labels, embedded one by one) and
``sfxcli/data/library/vectors.npz`` (each default recording's label and tags).
"""

from __future__ import annotations

from sfxcli.labels import fold, ucs_categories
from sfxcli.library.embed import VOCAB_FILE, build_vocabulary, load_encoder
from sfxcli.library.store import DEFAULT_LIBRARY, embed_library, open_library


def main() -> None:
    encoder = load_encoder()
    library = open_library(DEFAULT_LIBRARY)
    words: list[str] = []
    for category in ucs_categories():
        for text in (category.category, category.subcategory, *category.synonyms):
            words += fold(text).split()
    for entry in library.entries:
        words += fold(f"{entry.label} {entry.tags}").split()
    build_vocabulary([w for w in words if len(w) > 1], encoder)
    path = embed_library(library, encoder.encode)
    print(f"{len(set(words))} words -> {VOCAB_FILE}; {len(library.entries)} recordings -> {path}")


if __name__ == "__main__":
    main()
