"""The house rules of the code's structure (docs/architecture.md), checked by reading the imports with `ast`:
nothing is imported, so a rule holds for every line, including imports inside functions.

- the lobby screen imports no area: the areas register with it;
- the pure rules (the tally, the ledger's chain and integrity check, the secret-release rules, money) import
  neither Flask nor SQLAlchemy nor anything of the app that does;
- the consultations never import the ledger (the ledger links to resolutions, not the other way round);
- no area imports the CLI;
- no two subpackages of kiosk import each other, directly or round a longer loop.
"""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "kiosk"
SKIP = {"migrations", "translations"}  # Alembic's scripts and the catalogs are not part of the import graph
# The areas create_app walks (kiosk/__init__.py AREAS) that bring features; auth is core as well as an area
# (every page asks it who is there), compounds is the tenant core and screen the lobby's loop.
FEATURE_AREAS = {"notices", "households", "roster", "distribution", "consult", "supervisors", "ledger",
                 "committee", "platform", "home"}
PURE = ("kiosk.consult.tally", "kiosk.consult.release_rules", "kiosk.ledger.chain", "kiosk.ledger.integrity",
        "kiosk.money", "kiosk.meetings.rules")
FRAMEWORKS = ("flask", "flask_babel", "flask_login", "flask_wtf", "flask_sqlalchemy", "sqlalchemy", "werkzeug",
              "jinja2", "wtforms")


def module_name(path):
    """kiosk/consult/admin/base.py -> kiosk.consult.admin.base; a package's __init__ is the package."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules():
    """{module name: source path} of every module of kiosk but migrations and catalogs."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if SKIP.intersection(path.relative_to(PACKAGE).parts):
            continue
        found[module_name(path)] = path
    return found


MODULES = modules()


def imports_of(name):
    """Every module `name` imports anywhere in its text, as absolute names. `from x import y` counts as x.y
    when x.y is a module of kiosk, else as x."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module
            for alias in node.names:
                full = f"{source}.{alias.name}"
                found.add(full if full in MODULES else source)
    return found


GRAPH = {name: imports_of(name) for name in MODULES}


def area_of(module):
    """The kiosk subpackage a module belongs to (consult, ledger, ...), or None for kiosk's own modules."""
    parts = module.split(".")
    if parts[0] != "kiosk" or len(parts) < 2:
        return None
    return parts[1] if (PACKAGE / parts[1]).is_dir() else None


def in_area(area):
    """The modules of one subpackage."""
    return [name for name in MODULES if area_of(name) == area]


def test_the_graph_sees_the_modules_it_should():
    """A check that reads nothing proves nothing: the graph has the areas and their cross imports."""
    assert {"kiosk.consult.tally", "kiosk.ledger.chain", "kiosk.money", "kiosk.screen.registry"} <= set(MODULES)
    assert "kiosk.screen.registry" in GRAPH["kiosk.consult.slides"]
    assert "kiosk.consult.tally" in GRAPH["kiosk.consult.service.counting"]


def test_the_screen_imports_no_area():
    bad = sorted((name, dep) for name in in_area("screen") for dep in GRAPH[name] if area_of(dep) in FEATURE_AREAS)
    assert bad == []


@pytest.mark.parametrize("pure", PURE)
def test_the_pure_rules_import_no_framework_and_no_database(pure):
    """A pure module imports no framework, and of kiosk only other pure modules."""
    for dep in GRAPH[pure]:
        assert dep.split(".")[0] not in FRAMEWORKS, f"{pure} imports {dep}"
        assert dep.split(".")[0] != "kiosk" or dep in PURE, f"{pure} imports {dep}"


def test_consultations_never_import_the_ledger():
    bad = sorted((name, dep) for name in in_area("consult") for dep in GRAPH[name] if area_of(dep) == "ledger")
    assert bad == []


def test_no_area_imports_the_cli():
    bad = sorted(name for name, deps in GRAPH.items() if area_of(name) and "kiosk.cli" in deps)
    assert bad == []


def package_graph():
    """{subpackage: subpackages it imports}, each module's imports attributed to its subpackage."""
    graph = {}
    for name, deps in GRAPH.items():
        area = area_of(name)
        if area is None:
            continue
        graph.setdefault(area, set()).update(d for d in (area_of(dep) for dep in deps) if d and d != area)
    return graph


def cycles(graph):
    """Every strongly connected set of two or more packages (Tarjan's algorithm), sorted."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def test_cycles_finds_a_loop_when_there_is_one():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_subpackages_import_each_other_round_a_loop():
    assert cycles(package_graph()) == []
