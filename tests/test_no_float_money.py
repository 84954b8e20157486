"""Money and vote counts are exact: no float anywhere money or a tally flows (issue 6, "a test greps for it").

Amounts are integer fen, areas integer hundredths of a m², shares Fractions or integer permille. A float
(or a true division of such an integer, which makes one) would round a total or a threshold somewhere.
Decimal is allowed only where a spreadsheet cell needs a number in yuan, built from integer fen.
"""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Every module of the ledger and of consultations (but the keypad throttle's seconds), money and exports.
EXACT_MODULES = (sorted((ROOT / "kiosk" / "ledger").rglob("*.py"))
                 + sorted(p for p in (ROOT / "kiosk" / "consult").rglob("*.py") if p.name != "kiosk_votes.py")
                 + [ROOT / "kiosk" / name for name in ("money.py", "exports.py")])
EXACT_TEMPLATES = sorted((ROOT / "templates" / "ledger").glob("*.html")) + sorted(
    (ROOT / "templates" / "consult").glob("*.html"))


def true_divisions(tree):
    """Line numbers of `a / b` whose left side is not a Decimal(...) call."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            left = node.left
            if isinstance(left, ast.Call) and getattr(left.func, "id", "") in ("Decimal", "Fraction"):
                continue
            found.append(node.lineno)
    return found


@pytest.mark.parametrize("path", EXACT_MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_float_in_money_and_tally_code(path):
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    assert "float" not in names, f"{path.name} calls float()"
    floats = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, float)]
    assert not floats, f"{path.name} has float literals on lines {floats}"
    assert not true_divisions(tree), f"{path.name} divides with / on lines {true_divisions(tree)}"


@pytest.mark.parametrize("path", EXACT_TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_float_in_money_templates(path):
    source = path.read_text(encoding="utf-8")
    assert "|float" not in source and "float(" not in source, path.name
    assert "/ 100" not in source and "/100" not in source, f"{path.name} divides an amount in the template"
