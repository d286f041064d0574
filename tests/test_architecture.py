"""No import cycle among circlebot's core modules, read from the import graph grimp builds.

grimp reads every import statement, including those inside functions, so an import moved
into a function to dodge a cycle still counts. Imports under ``TYPE_CHECKING`` never run
and are left out: a handler takes a `Context` whose services hold the registry of
handlers, a mutual reference that only the type checker sees.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import grimp
import pytest


def import_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Every set of modules that import one another in a ring (Tarjan's strongly connected
    components with more than one module, or a module importing itself)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        imported = graph.find_modules_directly_imported_by(module)
        for other in sorted(imported):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in on_stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            ring = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                ring.append(other)
                if other == module:
                    break
            if len(ring) > 1 or module in imported:
                cycles.append(sorted(ring))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return sorted(cycles)


def describe(graph: grimp.ImportGraph, ring: list[str]) -> str:
    """The imports that close a ring, with their line numbers."""
    lines = []
    for importer in ring:
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            if imported in ring:
                for detail in graph.get_import_details(importer=importer, imported=imported):
                    lines.append(f"  {importer}:{detail['line_number']}: {detail['line_contents']}")
    return "\n".join(lines)


def runtime_graph(package: str) -> grimp.ImportGraph:
    return grimp.build_graph(package, exclude_type_checking_imports=True, cache_dir=None)


@pytest.mark.parametrize("package", ["bot", "storage", "adapters"])
def test_no_import_cycles(package: str) -> None:
    graph = runtime_graph(package)
    assert len(graph.modules) > 3, "grimp found no modules: is the package importable?"
    cycles = import_cycles(graph)
    report = "\n\n".join(f"{' <-> '.join(ring)}\n{describe(graph, ring)}" for ring in cycles)
    assert not cycles, f"import cycles in {package}:\n{report}"


def test_an_import_inside_a_function_still_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check above sees a cycle hidden in a function, and does not see one that only
    the type checker follows."""
    package = tmp_path / "ringpkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from ringpkg.b import helper\n")
    (package / "b.py").write_text(
        textwrap.dedent(
            """
            from typing import TYPE_CHECKING

            if TYPE_CHECKING:
                from ringpkg.c import Thing


            def helper() -> None:
                from ringpkg import a  # hides the cycle a -> b -> a from module load

                print(a)
            """
        )
    )
    (package / "c.py").write_text("from ringpkg.b import helper\n\nThing = helper\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        graph = runtime_graph("ringpkg")
        assert import_cycles(graph) == [["ringpkg.a", "ringpkg.b"]]
        assert "ringpkg.b:9:" in describe(graph, ["ringpkg.a", "ringpkg.b"])
    finally:
        for name in [m for m in sys.modules if m == "ringpkg" or m.startswith("ringpkg.")]:
            del sys.modules[name]
