"""The reference model's rules for its hosted tools (pure and deterministic; README "The reference model").

* ``choose_hosted_tool`` decides whether a turn uses code_interpreter or file_search.
* ``arithmetic.find_math`` parses the arithmetic in a message into our own tree; ``program_for`` writes a Python
  program from that tree. The program never contains text from the message: only numbers, operators and a
  one-letter variable name, re-rendered from the tree.
* ``citation_answer`` quotes the best search result with its citation markers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .arithmetic import Math, display, find_math, shown_math
from .search import terms

# ---- which hosted tool ---------------------------------------------------------------------------------------

_FILE_KINDS = (("csv", re.compile(r"\bcsv\b", re.I)), ("json", re.compile(r"\bjson\b", re.I)),
               ("txt", re.compile(r"\b(?:text|txt)\s+file\b", re.I)))
_PLOT = re.compile(r"\b(?:plot|chart|graph|draw|visuali[sz]e)\b", re.I)


def tool_types(tools: list[dict]) -> set[str]:
    return {t.get("type") for t in tools}


def choose_hosted_tool(user_text: str, tools: list[dict], tool_choice: object, has_vector_store: bool) -> str | None:
    """"code_interpreter" when it is a run tool and the message holds arithmetic (or tool_choice forces it),
    else "file_search" when it is a run tool with a vector store to search, else None."""
    available = tool_types(tools)
    if tool_choice == "none":
        return None
    if isinstance(tool_choice, dict) and tool_choice.get("type") in ("code_interpreter", "file_search"):
        forced = tool_choice["type"]
        if forced in available and (forced == "code_interpreter" or has_vector_store):
            return forced
        return None
    if "code_interpreter" in available and find_math(user_text) is not None:
        return "code_interpreter"
    if "file_search" in available and has_vector_store and user_text.strip():
        return "file_search"
    return None


# ---- programs ------------------------------------------------------------------------------------------------

OUTPUT_NAMES = {"csv": "result.csv", "json": "result.json", "txt": "result.txt", "png": "plot.png"}

_SHOW = '''\
def show(value):
    """Exact fractions also as a decimal; integers too long to print (4,300 digits) by their size."""
    if isinstance(value, F) and value.denominator != 1:
        return f"{value} (about {float(value):.6g})"
    if isinstance(value, F) and value.numerator.bit_length() > 14000:
        return f"an integer of about {int(value.numerator.bit_length() * 0.30103) + 1} digits"
    return str(value)
'''

_PNG = '''\
def write_png(path, width, height, pixels):
    """A truecolour PNG from a bytearray of RGB rows (standard library only)."""
    rows = b"".join(b"\\x00" + bytes(pixels[y * width * 3:(y + 1) * width * 3]) for y in range(height))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    with open(path, "wb") as out:
        out.write(b"\\x89PNG\\r\\n\\x1a\\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9))
                  + chunk(b"IEND", b""))


def plot(path, series, x_range, width=320, height=240):
    """Each function in ``series`` (with its RGB colour) drawn over x_range, with the x axis in grey."""
    pixels = bytearray(b"\\xff" * width * height * 3)
    low_x, high_x = x_range
    xs = [low_x + (high_x - low_x) * i / (width - 1) for i in range(width)]
    values = [[float(f(x)) for x in xs] for f, _ in series]
    low_y, high_y = min(min(v) for v in values + [[0.0]]), max(max(v) for v in values + [[0.0]])
    if high_y == low_y:
        high_y = low_y + 1.0
    def row(y):
        return int((high_y - y) / (high_y - low_y) * (height - 11)) + 5
    def put(px, py, colour):
        if 0 <= px < width and 0 <= py < height:
            pixels[(py * width + px) * 3:(py * width + px) * 3 + 3] = bytes(colour)
    for px in range(width):
        put(px, row(0.0), (160, 160, 160))
    for (f, colour), ys in zip(series, values):
        for px, y in enumerate(ys):
            for dy in (0, 1):
                put(px, row(y) + dy, colour)
    write_png(path, width, height, pixels)
'''


def wanted_outputs(text: str) -> list[str]:
    """The file kinds the message asks for: "csv"/"json"/"txt" (a data file), "png" (a plot)."""
    kinds = [kind for kind, pattern in _FILE_KINDS if pattern.search(text)][:1]
    if _PLOT.search(text):
        kinds.append("png")
    return kinds


def program_for(math: Math | None, outputs: list[str]) -> str:
    """The Python program the model writes for the parsed problem (rules in README). It prints one result line
    and writes the requested files into its working directory."""
    if math is None:   # code_interpreter forced by tool_choice with nothing to compute
        return 'print("There is no arithmetic in the message to compute.")\n'
    imports = ["from fractions import Fraction as F"]
    if "csv" in outputs:
        imports.append("import csv")
    if "json" in outputs:
        imports.append("import json")
    if "png" in outputs:
        imports += ["import struct", "import zlib"]
    parts = ["\n".join(sorted(imports, key=lambda s: s.split()[1])) + "\n", _SHOW]
    if "png" in outputs:
        parts.append(_PNG)
    if math.kind == "equation":
        v = math.variable
        label = f"{v}"
        parts.append(f"def left({v}):\n    return {display(math.left, exact=True)}\n\n\n"
                     f"def right({v}):\n    return {display(math.right, exact=True)}\n")
        body = [f"# {shown_math(math)}: both sides are linear in {v}, so left - right = slope * {v} + offset.",
                "offset = left(F(0)) - right(F(0))",
                "slope = left(F(1)) - right(F(1)) - offset",
                f"{v} = -offset / slope",
                f"assert left({v}) == right({v})",
                f'print("{v} =", show({v}))']
        value = v
        if "png" in outputs:
            body.append(f'plot("{OUTPUT_NAMES["png"]}", [(left, (31, 119, 180)), (right, (214, 39, 40))], '
                        f"(float({v}) - 5, float({v}) + 5))")
    else:
        label = "result"
        body = [f"result = {display(math.left, exact=True)}",
                f'print("{display(math.left)} =", show(result))']
        value = "result"
        if "png" in outputs:
            body.append(f'plot("{OUTPUT_NAMES["png"]}", [(lambda x: result, (31, 119, 180))], (0.0, 10.0))')
    problem = shown_math(math)
    if "csv" in outputs:
        body += [f'with open("{OUTPUT_NAMES["csv"]}", "w", newline="") as out:',
                 "    writer = csv.writer(out)",
                 '    writer.writerow(["problem", "name", "value"])',
                 f'    writer.writerow(["{problem}", "{label}", str({value})])']
    if "json" in outputs:
        body += [f'with open("{OUTPUT_NAMES["json"]}", "w") as out:',
                 f'    json.dump({{"problem": "{problem}", "{label}": str({value})}}, out)']
    if "txt" in outputs:
        body += [f'with open("{OUTPUT_NAMES["txt"]}", "w") as out:',
                 f'    out.write("{problem}: {label} = " + str({value}) + "\\n")']
    parts.append("\n".join(body) + "\n")
    return "\n\n".join(parts)


def code_answer(logs: str, stderr: str, timed_out: bool, timeout_s: float) -> str:
    """The answer after running the program: its last printed line, or why it gave none."""
    if timed_out:
        return f"The program did not finish within {timeout_s:g} seconds, so I have no result."
    lines = [line for line in logs.splitlines() if line.strip()]
    if lines:
        return f"The result is {lines[-1].strip()}."
    problem = [line for line in stderr.splitlines() if line.strip()]
    return "The program failed" + (f": {problem[-1].strip()}" if problem else " without output") + "."


# ---- file_search answers ---------------------------------------------------------------------------------------

_SENTENCE = re.compile(r"[^.!?。！？\n]+(?:[.!?。！？]+|$)", re.M)
MAX_QUOTE = 300
NO_RESULTS = "I could not find anything about that in the files."


def best_sentence(text: str, query: str) -> str:
    """The sentence of a chunk sharing the most search terms with the query (the first on ties), cut to
    MAX_QUOTE characters at a word boundary."""
    wanted = set(terms(query))
    sentences = [s.strip() for s in _SENTENCE.findall(text) if s.strip()] or [text.strip()]
    best = max(sentences, key=lambda s: (len(wanted & set(terms(s))), -sentences.index(s)))
    if len(best) > MAX_QUOTE:
        best = best[:MAX_QUOTE].rsplit(" ", 1)[0] + "…"
    return best


def citation_marker(step_index: int, result_index: int) -> str:
    return f"【{step_index}:{result_index}†source】"


@dataclass(frozen=True)
class Cited:
    text: str                               # the answer
    citations: list[tuple[int, int, str]]   # (start, end, file_id) of each marker in text


def citation_answer(results: list[tuple[str, str, str]], query: str, step_index: int) -> Cited:
    """Quote the best sentence of the top result (and of the second, when it adds a different sentence), each
    followed by its marker. ``results``: (file_id, file_name, chunk text), best first."""
    if not results:
        return Cited(NO_RESULTS, [])
    text, citations, quoted = "", [], set()
    for index, (file_id, file_name, chunk) in enumerate(results[:2]):
        sentence = best_sentence(chunk, query)
        if sentence in quoted:
            continue
        quoted.add(sentence)
        text += ("According to " if index == 0 else " It also says: ") + (f"{file_name}: " if index == 0 else "")
        text += f"\"{sentence}\""
        marker = citation_marker(step_index, index)
        citations.append((len(text), len(text) + len(marker), file_id))
        text += marker
    return Cited(text, citations)
