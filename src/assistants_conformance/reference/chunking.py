"""Turning a file's bytes into text and the text into overlapping chunks for file_search.

A "token" here is a run of non-whitespace characters (regex ``\\S+``), the same units the reference model's
tokenizer counts; real tokenizers split finer, so our chunks hold somewhat more text than OpenAI's.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

DEFAULT_MAX_TOKENS = 800      # OpenAI's `auto` strategy
DEFAULT_OVERLAP = 400
WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Chunk:
    file_id: str
    filename: str
    text: str
    start: int    # character offsets into the file's text
    end: int


def chunk_text(text: str, max_tokens: int = DEFAULT_MAX_TOKENS, overlap: int = DEFAULT_OVERLAP) -> list[tuple[int, int]]:
    """(start, end) character spans of windows of ``max_tokens`` words, each sharing ``overlap`` words with
    the one before. Spans start at a word and end after one; text without words has no chunks."""
    if max_tokens < 1 or not 0 <= overlap < max_tokens:
        raise ValueError(f"need max_tokens >= 1 and 0 <= overlap < max_tokens, got {max_tokens}/{overlap}")
    words = [m.span() for m in WORD.finditer(text)]
    step = max_tokens - overlap
    spans = []
    for first in range(0, len(words), step):
        last = min(first + max_tokens, len(words)) - 1
        spans.append((words[first][0], words[last][1]))
        if last == len(words) - 1:
            break
    return spans


def decode_text(data: bytes) -> str | None:
    """The text of a file, or None when it is not text. OpenAI accepts UTF-8, UTF-16 and ASCII; UTF-16 is
    recognised by its byte order mark. NUL characters mark binary data even when the bytes decode."""
    try:
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            text = data.decode("utf-16")
        else:
            text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    return None if "\x00" in text else text
