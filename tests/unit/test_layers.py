"""Imports point downwards: pages/components → state → services → models/config."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "imgstream"

FORBIDDEN = {
    "state": ("imgstream.api", "imgstream.pages", "imgstream.components", "imgstream.cli"),
    "services": ("reflex", "imgstream.api", "imgstream.state", "imgstream.pages",
                 "imgstream.components", "imgstream.cli"),
    "api": ("imgstream.state", "imgstream.pages", "imgstream.components"),
}


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layers_import_only_downwards(layer):
    wrong = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in sorted((PACKAGE / layer).rglob("*.py"))
        for name in sorted(imported_modules(path))
        if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN[layer])
    ]
    assert wrong == []


@pytest.mark.parametrize("layer", ["pages", "components"])
def test_ui_modules_define_no_state(layer):
    states = [
        f"{path.relative_to(PACKAGE)}: {node.name}"
        for path in sorted((PACKAGE / layer).rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ClassDef)
        and any("State" in ast.unparse(base) for base in node.bases)
    ]
    assert states == []
