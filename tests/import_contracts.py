"""An import-linter contract of our own (`[tool.importlinter]` in pyproject.toml names it): no import cycle
between any two modules of a package, a package's `__init__` included.

import-linter's `acyclic_siblings` looks at siblings only, so `retouch.cli` (the package's `__init__`)
importing `retouch.cli.demo`, which imported `retouch.cli` back, passed it. This contract takes the whole
module graph grimp builds and reports every strongly connected set of modules, with one cycle through each.
"""

from __future__ import annotations

from grimp import ImportGraph
from importlinter.application import output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck


def cycles(graph: ImportGraph, modules: set[str]) -> list[list[str]]:
    """The strongly connected sets of more than one module among `modules` (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root) & modules)))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, following = work[-1]
            step = next(following, None)
            if step is not None:
                if step not in index:
                    index[step] = low[step] = len(index)
                    stack.append(step)
                    on_stack.add(step)
                    work.append((step, iter(sorted(graph.find_modules_directly_imported_by(step) & modules))))
                elif step in on_stack:
                    low[module] = min(low[module], index[step])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[module])
            if low[module] == index[module]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == module:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


class NoCyclesContract(Contract):
    """No cycles between any modules of `packages` (their `__init__` modules included)."""

    type_name = "no_cycles"

    packages = fields.ListField(subfield=fields.StringField())

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        modules = {
            module
            for package in self.packages  # type: ignore[attr-defined]
            for module in {package, *graph.find_descendants(package)}
        }
        found = cycles(graph, modules)
        shown = []
        for component in found:
            members = set(component)
            first = component[0]
            back = [m for m in graph.find_modules_that_directly_import(first) if m in members]
            chain = graph.find_shortest_chain(importer=first, imported=back[0]) if back else None
            shown.append(" -> ".join([*(chain or component), first]))
        return ContractCheck(kept=not found, metadata={"cycles": shown})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for cycle in check.metadata["cycles"]:
            output.print_error(f"Import cycle: {cycle}")
            output.new_line()
