"""Every JavaScript file we ship is already Chromium 65 syntax (issue 13: frozen lobby WebViews).

The pinned esbuild (package.json) prints each file once for `--target=chrome65` and once for `esnext`: a file
using anything newer than Chromium 65 (`?.`, `??`, class fields, optional catch binding, …) is lowered in
the first and not in the second, so the two differ. Needs `npm ci`; the same files are also compiled in a
real Chromium 65 by tests/browser/test_old_engines.py.
"""
import json
import subprocess
from pathlib import Path

import pytest

from conftest import IN_CI

ROOT = Path(__file__).resolve().parents[1]
ESBUILD = ROOT / "node_modules" / ".bin" / "esbuild"
SCRIPTS = sorted((ROOT / "static").rglob("*.js"))


def printed(source, target):
    """esbuild's reprint of source for target (whitespace-minified, so only syntax can differ)."""
    done = subprocess.run([str(ESBUILD), f"--target={target}", "--minify-whitespace", "--loader=js",
                           "--log-level=error"], input=source, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def esbuild():
    if not ESBUILD.exists():
        message = f"{ESBUILD} is missing: run npm ci (package.json pins esbuild)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    version = subprocess.run([str(ESBUILD), "--version"], capture_output=True, text=True).stdout.strip()
    assert version == json.loads((ROOT / "package.json").read_text())["devDependencies"]["esbuild"]
    return ESBUILD


def test_the_check_notices_syntax_newer_than_chromium_65(esbuild):
    for newer in ("var a = b?.c;", "var a = b ?? c;", "class A { x = 1 }", "try { f() } catch { g() }"):
        assert printed(newer, "chrome65") != printed(newer, "esnext"), newer
    assert printed("var a = b && b.c;", "chrome65") == printed("var a = b && b.c;", "esnext")


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT / "static")))
def test_shipped_javascript_needs_nothing_newer_than_chromium_65(esbuild, script):
    source = script.read_text(encoding="utf-8")
    assert printed(source, "chrome65") == printed(source, "esnext"), \
        f"{script.name} uses syntax Chromium 65 cannot parse (esbuild lowers it for --target=chrome65)"
