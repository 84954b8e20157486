"""The test suite's own machinery (tests/conftest.py): what makes it fast must not change what it proves."""
import multiprocessing
import time

import pytest
from werkzeug.routing.rules import Rule

from conftest import RunLock, _worker_url


def _code(function):
    """What a compiled function does: its bytecode, constants, names and defaults."""
    code = function.__code__
    return code.co_code, code.co_consts, code.co_names, code.co_varnames, function.__defaults__


@pytest.mark.sqlite_only  # URL rules are the same whatever the database
def test_shared_url_builders_are_the_ones_werkzeug_compiles_for_each_rule(app):
    """Every rule of a fresh app builds its URLs with exactly the function werkzeug would compile for it."""
    original = Rule._compile_builder.original
    rules = list(app.url_map.iter_rules())
    assert len(rules) > 100
    for rule in rules:
        for append_unknown in (False, True):
            assert _code(rule._compile_builder(append_unknown)) == _code(original(rule, append_unknown)), rule.rule


def test_each_xdist_worker_names_a_database_of_its_own(monkeypatch):
    url = "postgresql+psycopg://kiosk:kiosk@127.0.0.1:5433/kiosk_test"
    monkeypatch.setattr("conftest.WORKER", "gw1")
    assert _worker_url(url) == "postgresql+psycopg://kiosk:kiosk@127.0.0.1:5433/kiosk_test_gw1"
    monkeypatch.setattr("conftest.WORKER", "")
    assert _worker_url(url) == url


def _hold_alone(folder, entered, seconds):
    with RunLock(folder).held(alone=True):
        entered.set()
        time.sleep(seconds)


def test_no_test_starts_while_an_alone_test_runs(tmp_path):
    """A worker's next test waits until the ALONE test another worker runs has finished."""
    context = multiprocessing.get_context("fork")
    entered = context.Event()
    other = context.Process(target=_hold_alone, args=(str(tmp_path), entered, 1.0))
    other.start()
    try:
        assert entered.wait(30)
        began = time.monotonic()
        with RunLock(str(tmp_path)).held(alone=False):
            waited = time.monotonic() - began
    finally:
        other.join(30)
    assert waited >= 0.5
