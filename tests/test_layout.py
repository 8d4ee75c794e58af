"""The package's layout: no import cycles, and imports only in the documented direction.

``ALLOWED`` is the picture in docs/architecture.md as data: each part, and the parts it may
import. A new part must be added here (and there) before it can import anything.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.layout import cycles, forbidden, import_graph, part_of

PACKAGE = Path(__file__).resolve().parents[1] / "safemigrate"

#: What every part stands on: PostgreSQL's probes and the app's face.
FOUNDATION = {"safemigrate", "postgres", "conf", "exceptions", "compat", "models", "declarations"}

ALLOWED: dict[str, set[str]] = {
    "safemigrate": set(),
    "postgres": set(),
    "compat": set(),
    "models": set(),
    "exceptions": {"postgres"},
    "conf": {"exceptions"},
    "declarations": {"exceptions"},
    "guard": FOUNDATION,
    "deploy": FOUNDATION,
    "analysis": FOUNDATION,
    "backfill": FOUNDATION | {"guard"},
    "verify": FOUNDATION | {"guard"},
    "testing": FOUNDATION,
    "operations": FOUNDATION | {"backfill", "verify"},
    "review": FOUNDATION | {"analysis", "deploy"},
    "recovery": FOUNDATION | {"guard", "analysis", "backfill"},
    "rehearsal": FOUNDATION | {"analysis", "review"},
    "admin": FOUNDATION | {"review", "backfill"},
    "ondisk": set(),
    "checks": FOUNDATION | {"operations", "ondisk"},
    "apps": {"checks", "deploy", "operations", "ondisk"},
    "management": FOUNDATION
    | {"guard", "deploy", "analysis", "backfill", "operations", "review", "recovery", "rehearsal"},
}

MAX_MODULE_LINES = 400


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph(PACKAGE)


def test_safemigrate_has_no_import_cycle(graph):
    assert cycles(graph) == []


def test_imports_run_only_the_documented_way(graph):
    assert list(forbidden(graph, ALLOWED)) == []


def test_every_part_has_its_arrows_documented(graph):
    assert {part_of(module) for module in graph} <= set(ALLOWED)


def test_every_package_says_what_it_does_and_may_import():
    for init in PACKAGE.glob("*/__init__.py"):
        if init.parent.name in ("management", "migrations"):
            continue
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        assert "May import" in doc, f"{init.relative_to(PACKAGE.parent)} says nothing of imports"


def test_no_module_is_longer_than_the_style_allows():
    long = {
        str(path.relative_to(PACKAGE.parent)): lines
        for path in PACKAGE.rglob("*.py")
        if "migrations" not in path.parts
        and (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def _package(root: Path, files: dict[str, str]) -> Path:
    for name, source in files.items():
        path = root / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    return root / "pkg"


def test_a_cycle_is_found_through_any_kind_of_import(tmp_path):
    package = _package(
        tmp_path,
        {
            "__init__.py": "",
            "a.py": "from pkg import b\n",
            "b.py": "def later():\n    from .c import thing\n",
            "c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg.a\n",
            "d.py": "from pkg.a import something\n",
        },
    )

    assert cycles(import_graph(package)) == [["pkg.a", "pkg.b", "pkg.c"]]


def test_an_import_against_the_direction_is_named(tmp_path):
    package = _package(
        tmp_path,
        {
            "__init__.py": "",
            "guard/__init__.py": "",
            "guard/run.py": "from pkg.review.gate import check\n",
            "review/__init__.py": "",
            "review/gate.py": "from pkg.guard import run\n",
        },
    )
    allowed = {"guard": set(), "review": {"guard"}}

    assert list(forbidden(import_graph(package), allowed)) == [
        "pkg.guard.run imports pkg.review.gate: guard may not import review"
    ]
