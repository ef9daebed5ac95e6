"""Every `data-testid` in the app is part of the tester contract in docs/testing.md."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "imgstream"
CONTRACT = ROOT / "docs" / "testing.md"
_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_IN_TEXT = re.compile(r"""data-testid\s*[:=]\s*\\?["']?([a-z0-9]+(?:-[a-z0-9]+)*)""")
_ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|")


def _literal(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and _NAME.fullmatch(
            node.value):
        return node.value
    return None


def _testid_parameters(trees: list[ast.Module]) -> dict[str, int]:
    """Functions taking a `testid` argument, with its position."""
    found: dict[str, int] = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                names = [arg.arg for arg in node.args.posonlyargs + node.args.args]
                if "testid" in names or any(a.arg == "testid" for a in node.args.kwonlyargs):
                    found[node.name] = names.index("testid") if "testid" in names else -1
    return found


def _called_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def code_testids() -> dict[str, str]:
    """Every test id the app's code gives an element, with the first file that gives it."""
    files = sorted(PACKAGE.rglob("*.py"))
    trees = [ast.parse(path.read_text(), str(path)) for path in files]
    parameters = _testid_parameters(trees)
    found: dict[str, str] = {}

    def add(name: str | None, path: Path) -> None:
        if name:
            found.setdefault(name, str(path.relative_to(ROOT)))

    for path, tree in zip(files, trees, strict=True):
        for node in ast.walk(tree):
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if isinstance(key, ast.Constant) and key.value == "data-testid":
                        add(_literal(value), path)
            elif isinstance(node, ast.Call):
                for keyword in node.keywords:
                    if keyword.arg in ("data_testid", "testid"):
                        add(_literal(keyword.value), path)
                position = parameters.get(_called_name(node) or "")
                if position is not None and 0 <= position < len(node.args):
                    add(_literal(node.args[position]), path)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                for name in _IN_TEXT.findall(node.value):
                    add(name, path)
    for path in sorted(PACKAGE.rglob("*.js")):
        for name in _IN_TEXT.findall(path.read_text()):
            add(name, path)
    return found


def contract_rows() -> list[str]:
    """The test ids docs/testing.md lists, in the order of its table."""
    text = CONTRACT.read_text()
    table = text[text.index("## Test ids"):]
    return [match.group(1) for line in table.splitlines() if (match := _ROW.match(line))]


def test_the_collector_finds_each_way_the_code_gives_a_test_id():
    found = code_testids()
    assert found["upload-zone"].endswith("upload_panel.py")  # custom_attrs
    assert "share-prev" in found  # an HTML string of the share pages
    assert "empty-library" in found  # a helper's testid keyword
    assert len(found) > 50


def test_every_test_id_in_the_code_is_in_the_contract():
    listed = set(contract_rows())
    missing = {name: where for name, where in code_testids().items() if name not in listed}
    assert not missing, f"add these to docs/testing.md: {missing}"


def test_the_contract_lists_each_test_id_once_sorted():
    rows = contract_rows()
    assert rows == sorted(set(rows))
