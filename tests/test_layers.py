"""Imports between domain folders run one way, so each folder can change without the ones below it.

Read from the source with `ast`: an import under `if TYPE_CHECKING:` is for type hints only and
does not count. Top-level modules (security, transactions, audit, ...) serve every folder and are
not domain folders.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import vigtrain

PACKAGE = Path(vigtrain.__file__).parent
DOMAINS = sorted(path.name for path in PACKAGE.iterdir() if (path / "__init__.py").exists())


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    hidden: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", getattr(node.test, "attr", None)) == "TYPE_CHECKING":
            hidden |= {id(inner) for inner in ast.walk(node)}
    return hidden


def _imported_modules(tree: ast.AST) -> list[str]:
    hidden = _type_checking_nodes(tree)
    modules: list[str] = []
    for node in ast.walk(tree):
        if id(node) in hidden:
            continue
        if isinstance(node, ast.ImportFrom) and node.module == "vigtrain":
            modules += [f"vigtrain.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("vigtrain."):
            modules.append(node.module)
        elif isinstance(node, ast.Import):
            modules += [alias.name for alias in node.names if alias.name.startswith("vigtrain.")]
    return modules


def domain_imports() -> dict[str, dict[str, set[str]]]:
    """For each domain folder, the other domain folders it imports and the files that do."""
    found: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for domain in DOMAINS:
        for path in (PACKAGE / domain).rglob("*.py"):
            for module in _imported_modules(ast.parse(path.read_text(encoding="utf-8"))):
                target = module.split(".")[1]
                if target in DOMAINS and target != domain:
                    found[domain][target].add(str(path.relative_to(PACKAGE)))
    return found


def test_the_scan_sees_known_imports():
    """The scan finds an import that is there (training reads pathways), so its silence means something."""
    imports = domain_imports()
    assert "pathways" in imports["training"]
    assert "casework" in imports["dcs"]


def test_no_two_domain_folders_import_each_other():
    imports = domain_imports()
    both_ways = [
        f"{low} <-> {high}: {sorted(imports[low][high])} / {sorted(imports[high][low])}"
        for low in DOMAINS
        for high in DOMAINS
        if low < high and high in imports[low] and low in imports[high]
    ]
    assert both_ways == []


def test_the_folders_form_layers():
    """No cycle of any length: every folder can be placed above everything it imports."""
    imports = domain_imports()
    remaining, placed = set(DOMAINS), []
    while remaining:
        layer = {domain for domain in remaining if not (set(imports[domain]) & remaining)}
        assert layer, f"these folders import each other in a cycle: {sorted(remaining)}"
        placed.append(layer)
        remaining -= layer
    assert len(placed) > 2
