"""Imports point downwards: pages/components → state → services → models/config."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "imgstream"

ROOT = PACKAGE.parent


def test_layers_import_only_downwards():
    """The import-linter contracts of pyproject.toml: the design's layers, no Reflex in services."""
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "2 kept, 0 broken" in result.stdout


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
