"""The entity stage as a spaCy pipeline: ``pipeline.nlp()`` gives ``Doc.ents`` for any text.

``spacy.blank("zh")`` with two pieces of our own:

- ``ZhengaiTokenizer``: rjieba (or jieba) words with the domain dictionary, cut further at
  the edges of the entities the finder sees, so every entity is a whole run of tokens;
- the ``zhenggai_entities`` component: runs ``entities.find_entities`` and writes all
  mentions to ``doc.spans["entities"]`` (titles may contain dates and names) and the
  outermost ones to ``doc.ents``. Normalised values travel in ``doc.user_data``.

Feed it paragraphs, not whole corpora: spaCy's Chinese handling slows down on very long
strings, and a paragraph is the unit dates and titles live in.
"""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from pipeline import entities
from pipeline.ingest import match_form
from pipeline.segmenter import Segmenter, shared

USER_DATA_KEY = "zhenggai_entities"
CONTEXT_KEY = "zhenggai_date_context"


class ZhengaiTokenizer:
    """Words from the segmenter, split again where an entity starts or ends."""

    def __init__(self, vocab, segmenter: Segmenter):
        self.vocab = vocab
        self.segmenter = segmenter

    def __call__(self, text: str) -> Doc:
        found = entities.find_entities(match_form(text))
        edges = sorted({e.start for e in found} | {e.end for e in found})
        words: list[str] = []
        pos = 0
        for word in self.segmenter.cut(text):
            start, end = pos, pos + len(word)
            cuts = [c for c in edges if start < c < end]
            words += [text[a:b] for a, b in zip([start, *cuts], [*cuts, end], strict=True)]
            pos = end
        doc = Doc(self.vocab, words=words, spaces=[False] * len(words))
        doc.user_data[USER_DATA_KEY] = found
        return doc

    def to_bytes(self, **kwargs) -> bytes:
        return b""

    def from_bytes(self, data: bytes, **kwargs):
        return self

    def to_disk(self, path, **kwargs) -> None:
        return None

    def from_disk(self, path, **kwargs):
        return self


@Language.factory("zhenggai_entities", assigns=["doc.ents", "doc.spans"])
def make_entity_component(nlp: Language, name: str):
    return EntityComponent()


class EntityComponent:
    """Find first (``entities.find_entities``), then write spans and values on the Doc."""

    def __call__(self, doc: Doc) -> Doc:
        context = doc.user_data.get(CONTEXT_KEY)
        found = doc.user_data.get(USER_DATA_KEY)
        if found is None:
            found = entities.find_entities(match_form(doc.text), context)
        elif context is not None:  # only dates depend on the notice's own dates: find them again
            found = entities.with_context_dates(found, match_form(doc.text), context)
        spans: list[Span] = []
        kept = []
        for e in found:
            span = doc.char_span(e.start, e.end, label=str(e.type), alignment_mode="expand")
            if span is None:
                continue
            spans.append(span)
            kept.append(e)
        doc.spans["entities"] = spans
        doc.ents = filter_spans(spans)
        doc.user_data[USER_DATA_KEY] = kept
        return doc


def make_nlp(segmenter: str = "rjieba") -> Language:
    """A fresh spaCy pipeline; build one per process and reuse it."""
    import spacy

    nlp = spacy.blank("zh")
    nlp.tokenizer = ZhengaiTokenizer(nlp.vocab, shared(segmenter))
    nlp.add_pipe("zhenggai_entities")
    return nlp
