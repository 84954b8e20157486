"""What we ship parses and applies on the frozen Chromium 65 and 78 of lobby WebViews (issue 13).

- Every JavaScript file under static/ compiles in the engine's own V8 (Runtime.compileScript): htmx 2.0.11
  as published is a SyntaxError before Chromium 80; the vendored copy is lowered to Chromium 65 syntax.
- Every CSS declaration and selector of the screen, phone and admin stylesheets is one Chromium 65
  understands (CSS.supports / querySelectorAll in the browser itself), unless the same rule declares a
  fallback first; `inset` (Chromium 87) and flexbox `gap` (84) collapsed the lobby screen's slides.
"""
import re
from pathlib import Path

import pytest

from .conftest import _no_browser
from .old_chromium import ENGINES, Browser, missing_reason

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = sorted((ROOT / "static").rglob("*.js"))
# The stylesheets a lobby screen or a phone loads (print.css is printed from the committee's own computer).
STYLESHEETS = ["base.css", "screen.css", "phone.css", "admin.css", "large.css"]
# Declarations Chromium never supports on purpose, with why they stay.
IGNORED_PROPERTIES = {
    "-webkit-overflow-scrolling": "iOS Safari's momentum scrolling; Chromium scrolls that way anyway",
    "-webkit-text-size-adjust": "stops mobile Safari and some WebViews from inflating text; desktop builds ignore it",
}
# Selectors newer than Chromium 65 that only refine a rule which has an older fallback.
IGNORED_SELECTORS = {
    ":focus-visible": "refines the :focus outline (base.css), which Chromium 65 shows instead",
    ":focus:not(:focus-visible)": "hides the :focus outline where :focus-visible can show it instead",
}


@pytest.fixture(params=sorted(ENGINES), scope="module")
def old_browser(request):
    """A running old Chromium (65 or 78) and a connection to its tab."""
    engine = ENGINES[request.param]
    reason = missing_reason(engine)
    if reason:
        _no_browser(reason)
    browser = Browser(engine)
    page = browser.connect_page()
    page.send("Runtime.enable")
    yield engine, browser, page
    page.close()
    browser.close()


def test_the_old_engines_are_the_pinned_builds(old_browser):
    engine, browser, _ = old_browser
    assert browser.version == f"HeadlessChrome/{engine.version}", browser.version


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT / "static")))
def test_every_shipped_script_parses_on_the_old_engines(old_browser, script):
    engine, _, page = old_browser
    answer = page.send("Runtime.compileScript", {"expression": script.read_text(encoding="utf-8"),
                                                 "sourceURL": script.name, "persistScript": False})
    details = answer.get("exceptionDetails")
    assert details is None, (f"{script.name} does not parse on Chromium {engine.version}: "
                             f"{details['exception']['description']} at line {details['lineNumber'] + 1}, "
                             f"column {details['columnNumber'] + 1}")


def test_the_vendored_htmx_brings_the_built_ins_it_calls_that_old_engines_lack(old_browser):
    engine, _, page = old_browser
    vendored = next((ROOT / "static" / "vendor").glob("htmx-*.min.js")).read_text(encoding="utf-8")
    answer = page.send("Runtime.evaluate", {"expression": vendored + "\n;htmx.version", "returnByValue": True})
    assert answer["result"]["value"] == "2.0.11", answer
    probe = """JSON.stringify([[1, [2, [3]]].flat(), [[1, [2, [3]]]].flat(Infinity),
        (function () { var f = new FormData(); f.append("code", "123456"); return Object.fromEntries(f); })()])"""
    answer = page.send("Runtime.evaluate", {"expression": probe, "returnByValue": True})
    assert answer["result"]["value"] == '[[1,2,[3]],[1,2,3],{"code":"123456"}]', (engine.version, answer)


def media_blocks(text):
    """(the stylesheet with each @media block's rules in its place, [media conditions]); other @-rules fail."""
    conditions = []
    while True:
        start = text.find("@media")
        if start < 0:
            break
        open_ = text.index("{", start)
        depth, end = 1, open_ + 1
        while depth:
            depth += {"{": 1, "}": -1}.get(text[end], 0)
            end += 1
        conditions.append(text[start + len("@media"):open_].strip())
        text = text[:start] + text[open_ + 1:end - 1] + text[end:]
    return text, conditions


def css_rules(text):
    """(selector list, [(property, value)]) for each plain rule of a stylesheet, @media blocks' rules included
    (their conditions: media_blocks())."""
    text, _ = media_blocks(re.sub(r"/\*.*?\*/", "", text, flags=re.S))
    assert "@" not in text, "css_rules() reads @media blocks only; teach it before adding another @-rule"
    for match in re.finditer(r"([^{}]+)\{([^{}]*)\}", text):
        declarations = []
        for part in match.group(2).split(";"):
            if part.strip():
                prop, value = part.split(":", 1)
                declarations.append((prop.strip(), value.replace("!important", "").strip()))
        yield match.group(1).strip(), declarations


SUPPORTS = """(a) => a.map(function (d) { return CSS.supports(d[0], d[1]); })"""
MEDIA = """(a) => a.map(function (q) { return window.matchMedia(q).media !== "not all"; })"""
PARSES = """(a) => a.map(function (s) { try { document.querySelectorAll(s); return true; } catch (e) { return false; } })"""


@pytest.mark.parametrize("sheet", STYLESHEETS)
def test_every_css_declaration_and_selector_works_on_chromium_65(sheet):
    engine = ENGINES["chrome65"]
    reason = missing_reason(engine)
    if reason:
        _no_browser(reason)
    browser = Browser(engine)
    try:
        page = browser.connect_page()

        def ask(source, arg):
            import json

            answer = page.send("Runtime.evaluate", {"expression": f"({source})({json.dumps(arg)})",
                                                    "returnByValue": True})
            return answer["result"]["value"]

        problems = []
        source = (ROOT / "static" / "css" / sheet).read_text(encoding="utf-8")
        _, conditions = media_blocks(re.sub(r"/\*.*?\*/", "", source, flags=re.S))
        for condition, ok in zip(conditions, ask(MEDIA, conditions)):
            if not ok:
                problems.append(f"@media {condition} is not understood")
        for selector_list, declarations in css_rules(source):
            selectors = [s.strip() for s in selector_list.split(",")]
            for selector, ok in zip(selectors, ask(PARSES, selectors)):
                if not ok and not any(part in selector for part in IGNORED_SELECTORS):
                    problems.append(f"selector {selector!r} is not understood")
            supported = ask(SUPPORTS, declarations)
            for i, ((prop, value), ok) in enumerate(zip(declarations, supported)):
                fallback = any(p == prop and supported[j] for j, (p, _) in enumerate(declarations[:i]))
                if not ok and not fallback and prop not in IGNORED_PROPERTIES:
                    problems.append(f"{selector_list} {{ {prop}: {value} }} is ignored")
        page.close()
    finally:
        browser.close()
    assert problems == [], f"{sheet} on Chromium {engine.version}:\n" + "\n".join(problems)
