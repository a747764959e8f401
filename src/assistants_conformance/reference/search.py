"""Local BM25 ranking of vector-store chunks (the file_search tool of the reference model).

    for chunk, score in rank(chunks, "how many vacation days", k=5): ...

Okapi BM25 (k1 = 1.2, b = 0.75) with the always-positive idf log(1 + (N - n + 0.5) / (n + 0.5)) used by
Lucene. Written here rather than taken from rank-bm25: that package needs numpy, and its Okapi idf goes
negative (scores <= 0) when a term is in most chunks, which is the usual case for a store of one small file.
Terms are lowercased words (letters and digits, any script); CJK text, which has no spaces, is split into
overlapping character pairs so Japanese documents can be searched too.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from functools import lru_cache
from typing import Protocol, Sequence, TypeVar

K1 = 1.2
B = 0.75
_WORD = re.compile(r"\w+", re.UNICODE)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uff66-\uff9f]+")
# Function words that would otherwise make every chunk match a question.
STOPWORDS = frozenset("""a an and are as at be by do does for from has have how i in is it its me my of on or
that the this to was what when where which who why will with you your about can could please tell""".split())


class HasText(Protocol):
    text: str


C = TypeVar("C", bound=HasText)


def terms(text: str) -> list[str]:
    """Search terms of a text: lowercased words without stop words; CJK runs as character bigrams."""
    out: list[str] = []
    for word in _WORD.findall(text.lower()):
        pieces = _CJK.split(word)
        runs = _CJK.findall(word)
        out.extend(p for p in pieces if p and p not in STOPWORDS)
        for run in runs:
            out.extend([run] if len(run) == 1 else [run[i:i + 2] for i in range(len(run) - 1)])
    return out


@lru_cache(maxsize=1024)   # about 50 KB per 800-word chunk
def _term_counts(text: str) -> tuple[Counter, int]:
    """A chunk's term counts and length; chunks are searched again and again, their texts never change."""
    found = terms(text)
    return Counter(found), len(found)


def bm25_scores(documents: Sequence[tuple[Counter, int]], query: list[str]) -> list[float]:
    """BM25 score of each document (its term counts and length) for the query terms (0.0 when none matches)."""
    n_docs = len(documents)
    if n_docs == 0:
        return []
    average = sum(length for _, length in documents) / n_docs or 1.0
    counts = [c for c, _ in documents]
    scores = [0.0] * n_docs
    for term in set(query):
        having = sum(1 for c in counts if term in c)
        if not having:
            continue
        idf = math.log(1.0 + (n_docs - having + 0.5) / (having + 0.5))
        weight = query.count(term)
        for i, c in enumerate(counts):
            tf = c.get(term, 0)
            if tf:
                norm = K1 * (1.0 - B + B * documents[i][1] / average)
                scores[i] += weight * idf * tf * (K1 + 1.0) / (tf + norm)
    return scores


def normalise(score: float) -> float:
    """Map a BM25 score (0..inf) onto 0..1 as the API's result scores are: s / (s + 1), monotone."""
    return score / (score + 1.0) if score > 0 else 0.0


def rank(chunks: Sequence[C], query: str, k: int = 20, score_threshold: float = 0.0) -> list[tuple[C, float]]:
    """The best ``k`` chunks for ``query`` with their scores in 0..1, best first; chunks that share no term
    with the query, or score below ``score_threshold``, are left out. Ties keep the chunks' order."""
    scores = bm25_scores([_term_counts(c.text) for c in chunks], terms(query))
    ranked = sorted(((normalise(s), i) for i, s in enumerate(scores) if s > 0), key=lambda p: (-p[0], p[1]))
    return [(chunks[i], score) for score, i in ranked if score >= score_threshold][:max(0, k)]
