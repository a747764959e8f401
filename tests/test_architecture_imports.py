"""The import rules of the house, read from the source with `ast` (nothing is imported to check them).

* no import cycle among the modules of src/ (every import counts: module level, under TYPE_CHECKING, in a function);
* reference/ imports nothing of assistants_conformance outside reference/; protocol/ never imports reference/
  and reference/ never imports protocol/;
* no import inside a function in reference/ names a reference module (such lazy imports only dodge a cycle), and
  nowhere in src/ does an import inside a function close a loop;
* the dialect layers of reference/ (dialects, v1, v1_files) are imported only by app.py and each other;
* every module in reference/ is under 400 lines;
* reference/README.md's "Layout" table lists every reference module, each below all the modules that import it.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path


SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "assistants_conformance"
REFERENCE = f"{PACKAGE}.reference"
PROTOCOL = f"{PACKAGE}.protocol"
DIALECT_LAYER = {f"{REFERENCE}.{name}" for name in ("dialects", "v1", "v1_files")}
MAX_LINES = 400


@dataclass(frozen=True)
class Import:
    source: str        # the importing module
    target: str        # the imported module of the package
    line: int
    in_function: bool  # inside a def (a lazy import)


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path, package: str) -> dict[str, list[Import]]:
    """Every module under ``root/package`` -> its imports of modules of that package. Relative imports are
    resolved; ``from X import name`` counts X and, when ``name`` is itself a module, X.name."""
    paths = {module_name(p, root): p for p in sorted((root / package).rglob("*.py"))}
    packages = {module_name(p, root) for p in paths.values() if p.name == "__init__.py"}
    graph: dict[str, list[Import]] = {}
    for name, path in paths.items():
        here = name if name in packages else name.rpartition(".")[0]   # the package relative imports start from
        found: list[Import] = []

        def visit(node: ast.AST, in_function: bool) -> None:
            for child in ast.iter_child_nodes(node):
                inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
                if isinstance(child, ast.Import):
                    targets = [alias.name for alias in child.names]
                elif isinstance(child, ast.ImportFrom):
                    base = child.module or ""
                    if child.level:
                        anchor = here.split(".")[: len(here.split(".")) - child.level + 1]
                        base = ".".join(anchor + ([base] if base else []))
                    targets = [base] + [f"{base}.{alias.name}" for alias in child.names]
                else:
                    visit(child, inner)
                    continue
                for target in targets:
                    if target in paths and target != name:   # a package's `from . import x` is not a self-import
                        found.append(Import(name, target, child.lineno, in_function))
        visit(ast.parse(path.read_text(encoding="utf-8"), str(path)), False)
        graph[name] = found
    return graph


def cycles(graph: dict[str, list[Import]], within: set[str] | None = None) -> list[list[str]]:
    """The import cycles (strongly connected components of more than one module, or a module importing
    itself), each as a sorted list of module names; only among ``within`` when given."""
    nodes = set(graph) if within is None else set(within)
    edges = {n: sorted({i.target for i in graph[n] if i.target in nodes}) for n in nodes}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def strongconnect(node: str) -> None:   # Tarjan's algorithm (recursion depth = module count, small)
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges[node]:
            if nxt not in index:
                strongconnect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in edges[node]:
                found.append(sorted(component))

    for node in sorted(nodes):
        if node not in index:
            strongconnect(node)
    return sorted(found)


def reaches(graph: dict[str, list[Import]], start: str, goal: str) -> bool:
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            todo.extend(i.target for i in graph.get(node, ()))
    return False


GRAPH = import_graph(SRC, PACKAGE)


def inside(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def show(imports: list[Import]) -> str:
    kind = {True: "in a function", False: "at module level"}
    return "\n".join(f"  {i.source} line {i.line} imports {i.target} ({kind[i.in_function]})" for i in imports)


def test_the_graph_builder_reads_relative_lazy_and_type_checking_imports(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("from . import leaf\n")
    (pkg / "sub" / "leaf.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..top import T\n")
    (pkg / "top.py").write_text("import os\n\ndef f():\n    from .sub.leaf import x\n    import pkg.sub\n")
    graph = import_graph(tmp_path, "pkg")
    assert [(i.target, i.in_function) for i in graph["pkg.top"]] == [("pkg.sub.leaf", True), ("pkg.sub", True)]
    assert [(i.target, i.in_function) for i in graph["pkg.sub"]] == [("pkg.sub.leaf", False)]
    assert [i.target for i in graph["pkg.sub.leaf"]] == ["pkg.top"]
    assert cycles(graph) == [["pkg.sub", "pkg.sub.leaf", "pkg.top"]]
    assert reaches(graph, "pkg.sub.leaf", "pkg.sub") and not reaches(graph, "pkg", "pkg.top")


def test_no_import_cycle_in_the_reference_server():
    reference = {m for m in GRAPH if inside(m, REFERENCE)}
    assert cycles(GRAPH, reference) == []


def test_no_import_cycle_anywhere_in_src():
    assert cycles(GRAPH) == []


def test_reference_imports_nothing_of_the_harness_outside_itself():
    wrong = [i for m in GRAPH if inside(m, REFERENCE) for i in GRAPH[m]
             if not inside(i.target, REFERENCE) and i.target != PACKAGE]
    assert wrong == [], "reference/ is an independent reading of the spec:\n" + show(wrong)


def test_protocol_and_reference_never_import_each_other():
    wrong = [i for m in GRAPH for i in GRAPH[m]
             if (inside(m, PROTOCOL) and inside(i.target, REFERENCE))
             or (inside(m, REFERENCE) and inside(i.target, PROTOCOL))]
    assert wrong == [], show(wrong)


def test_no_lazy_import_of_a_reference_module_inside_reference():
    lazy = [i for m in GRAPH if inside(m, REFERENCE) for i in GRAPH[m] if i.in_function and inside(i.target, REFERENCE)]
    assert lazy == [], "move the shared piece down into a lower module instead:\n" + show(lazy)


def cycle_dodges(modules: set[str]) -> list[Import]:
    """Function-level imports whose target leads back to the importer: they exist only to dodge a cycle."""
    return [i for m in sorted(modules) for i in GRAPH[m] if i.in_function and reaches(GRAPH, i.target, i.source)]


def test_no_import_inside_a_function_of_reference_closes_a_loop():
    dodges = cycle_dodges({m for m in GRAPH if inside(m, REFERENCE)})
    assert dodges == [], show(dodges)


def test_no_import_inside_a_function_anywhere_in_src_closes_a_loop():
    dodges = cycle_dodges(set(GRAPH))
    assert dodges == [], show(dodges)


def test_dialect_layers_sit_on_top_of_the_reference_server():
    wrong = [i for m in GRAPH for i in GRAPH[m]
             if i.target in DIALECT_LAYER and m not in DIALECT_LAYER | {f"{REFERENCE}.app"}]
    assert wrong == [], "only app.py assembles the dialect layers:\n" + show(wrong)


def test_every_module_in_src_is_under_400_lines():
    sizes = {str(p.relative_to(SRC)): len(p.read_text(encoding="utf-8").splitlines())
             for p in sorted((SRC / PACKAGE).rglob("*.py"))}
    assert {name: n for name, n in sizes.items() if n >= MAX_LINES} == {}


def test_unsupported_is_written_in_one_place():
    """The outcome is a type (outcomes.Unsupported), never a message prefix matched elsewhere."""
    root = SRC.parent
    found = [f"{p.relative_to(root)}:{n}" for folder in ("src", "suites") for p in sorted((root / folder).rglob("*.py"))
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if '"unsupported:' in line]
    assert found == [f"src/{PACKAGE}/outcomes.py:{_line_of(SRC / PACKAGE / 'outcomes.py', chr(34) + 'unsupported:')}"]


def _line_of(path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line)


def layout_order() -> list[str]:
    """The reference modules in the order reference/README.md's "Layout" table lists them."""
    readme = (SRC / PACKAGE / "reference" / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Layout", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[2] for line in section.splitlines() if line.startswith("|") and line.count("|") >= 4]
    return [f"{REFERENCE}.{name}" for row in rows for name in re.findall(r"`(\w+)\.py`", row)]


def test_the_reference_layout_table_lists_modules_in_import_order():
    order = layout_order()
    modules = {m for m in GRAPH if inside(m, REFERENCE) and m.rsplit(".", 1)[1] not in ("reference", "__main__")}
    assert sorted(set(order)) == sorted(modules) and len(order) == len(set(order)), "list each module once"
    position = {m: i for i, m in enumerate(order)}
    upward = [i for m in order for i in GRAPH[m] if i.target in position and position[i.target] <= position[m]]
    assert upward == [], "a module imports only modules listed below it in reference/README.md:\n" + show(upward)
