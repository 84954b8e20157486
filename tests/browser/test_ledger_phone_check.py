"""A resident's phone checks a disclosed period against the printed notice, trusting neither the server's verdict
nor its arithmetic: the notice's QR (read by zbar from the printed page) carries the head the supervisors signed;
the phone recomputes the chain with WebCrypto. An insider then rewrites a January entry, every later hash, the
stored heads, the sign-offs' heads and the audit log's hashes directly in the database: the server's own check
can't tell any more, the phone still can. Phones also remember the newest entry they saw."""
import re
from datetime import date

import pytest
from sqlalchemy import select

from kiosk.auth.models import Membership, Role, User
from kiosk.compounds.models import Compound
from kiosk.extensions import db
from kiosk.ledger import evidence, service
from kiosk.ledger.models import Category, Period, PeriodStatus
from ledger_tamper import delete_entries, rewrite, tamper

from .conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, expect, log_in
from .test_screen_qr import decode_qr

pytestmark = pytest.mark.browser


def build_ledger(live, account):
    """January (#1-#3, a person paid in #2) and February (#4-#5) signed by two supervisors; March's #6 posted."""
    with live.app.app_context():
        compound = db.session.scalar(select(Compound).where(Compound.slug == account.slug))
        chair = db.session.scalar(select(User).where(User.username == account.username))
        sups = []
        for i in range(2):
            user = User(username=f"{account.slug}-sup{i}", display_name=f"监督委员{i}", password_hash="!")
            db.session.add(user)
            db.session.flush()
            db.session.add(Membership(user_id=user.id, compound_id=compound.id, role=Role.supervisor))
            sups.append(user)
        service.open_book(compound, started_on=date(2026, 1, 1))
        db.session.commit()

        def post(name, fen, day, **extra):
            cat = db.session.scalar(select(Category).where(Category.compound_id == compound.id,
                                                           Category.name == name))
            entry = service.save_draft(compound, chair, None, {
                "kind": cat.kind, "occurred_on": day, "category_id": cat.id, "amount_fen": fen,
                "description": f"{name} {day:%m-%d}", **extra})
            service.post(compound, chair, entry)
            db.session.commit()

        ids = []
        for lines, start, end in [
            ([("停车费", 860000, date(2026, 1, 3), {}),
              ("维修", 23000, date(2026, 1, 19), {"counterparty": "黄建军", "counterparty_is_person": True}),
              ("垃圾清运", 150000, date(2026, 1, 26), {})], date(2026, 1, 1), date(2026, 1, 31)),
            ([("停车费", 870000, date(2026, 2, 3), {}), ("消杀", 98000, date(2026, 2, 18), {})],
             date(2026, 2, 1), date(2026, 2, 28))]:
            for name, fen, day, extra in lines:
                post(name, fen, day, **extra)
            period = service.submit(compound, chair, service.figures(compound, start, end).closing)
            for sup in sups:
                service.decide(compound, sup, period, True)
            db.session.commit()
            assert period.status == PeriodStatus.published
            ids.append(period.id)
        post("停车费", 880000, date(2026, 3, 3))
        return ids


def printed_qr(visitor, live, account, period_id):
    """What a phone's camera reads off the printed notice (公示表) of a period."""
    committee = visitor(viewport={"width": 900, "height": 1400}, device_scale_factor=2)
    log_in(committee.page, account, tap=False)
    committee.page.goto(f"/admin/{account.slug}/ledger/periods/{period_id}/print")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / f"ledger-notice-qr-{live.backend}.png"
    committee.page.locator("figure.small-qr").screenshot(path=str(shot))
    found = decode_qr(shot)
    assert len(found) == 1, found
    committee.assert_clean()
    return found[0]


def checked(phone, url):
    phone.page.goto(url)
    expect(phone.page.locator("[data-ledger-check]")).to_have_attribute("data-done", "true")
    return phone.page.locator("[data-ledger-check] [data-show]:visible").all_inner_texts()


def test_a_phone_catches_a_rewrite_the_server_cannot_see(live, visitor, devices):
    account = live.new_compound(name="枫树小区", role=Role.chair)
    january, _february = build_ledger(live, account)
    url = printed_qr(visitor, live, account, january)
    with live.app.app_context():
        head = db.session.get(Period, january)
        assert re.fullmatch(rf"http://[^/]+/{account.slug}/ledger/check/{january}\?n=3&h={head.head_hash}", url)

    phone = visitor(**devices["Pixel 5"])
    shown = " ".join(checked(phone, url))
    assert "第 1 至 3 号共 3 笔记录（本期 3 笔）在手机上重新计算，结果与公示表上的核对码一致" in shown
    assert "本期收入 ¥8,600.00，支出 ¥1,730.00" in shown  # to compare with the figures printed beside the QR
    phone.assert_clean()

    with live.app.app_context():  # an insider rewrites January's repair, and everything that would show it
        tamper(rewrite(2, heads=True, signoffs=True, audit=True, description="3 栋楼道灯更换（材料）"))
        compound = db.session.scalar(select(Compound).where(Compound.slug == account.slug))
        assert evidence.check(compound).ok  # the server's own check is fooled
    verify = phone.page.goto(f"/{account.slug}/ledger/verify")
    assert verify.ok and "已公示各期的核对码全部对得上" in phone.page.inner_text("main")

    shown = " ".join(checked(phone, url))  # the same phone: it remembers the hashes it computed last time
    assert "第 2 号与这部手机" in shown and "核对时不一致" in shown and "请向社区或街道反映" in shown
    stranger = visitor(**devices["Pixel 5"])  # a phone that never checked before: the paper still tells
    shown = " ".join(checked(stranger, url))
    assert re.search(r"得到的核对码是 [0-9A-F]{12}，与公示表上的 [0-9A-F]{12} 不一致：第 1 至 3 号", shown), shown
    assert "一致。" not in shown.replace("不一致", "")
    phone.page.screenshot(path=str(ARTIFACTS / f"ledger-phone-check-{live.backend}.png"), full_page=True)
    phone.assert_clean()
    stranger.assert_clean()


def test_a_phone_notices_the_newest_entries_deleted(live, visitor, devices):
    account = live.new_compound(name="松树小区", role=Role.chair)
    build_ledger(live, account)
    phone = visitor(**devices["Pixel 5"])
    phone.page.goto(f"/{account.slug}/ledger/")
    memory = phone.page.locator("[data-ledger-memory]")
    expect(memory).to_have_attribute("data-done", "true")
    expect(memory.locator("[data-show]:visible")).to_have_count(0)
    with live.app.app_context():  # March's #6, which no signature covers yet, is deleted
        tamper(delete_entries(6))
    phone.page.reload()
    expect(phone.page.locator("[data-ledger-memory]")).to_have_attribute("data-done", "true")
    warning = phone.page.locator('[data-show="deleted"]')
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("这部手机以前看到账本记到第 6 号，现在服务器上只到第 5 号")
    phone.assert_clean()


def test_on_plain_http_the_phone_says_it_cannot_check(live, pw):
    """crypto.subtle exists only in secure contexts (https, or this machine): on a plain-http name, a calm
    sentence instead of an error."""
    account = live.new_compound(name="柏树小区", role=Role.chair)
    january, _february = build_ledger(live, account)
    browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                 args=CHROMIUM_ARGS + ["--host-resolver-rules=MAP kiosk-lan.test 127.0.0.1"])
    try:
        page = browser.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"http://kiosk-lan.test:{live.port}/{account.slug}/ledger/check/{january}?n=3&h={'a' * 64}")
        expect(page.locator('[data-show="insecure"]')).to_be_visible()
        expect(page.locator('[data-show="insecure"]')).to_contain_text("不是加密连接（https）")
        assert errors == []
    finally:
        browser.close()


@pytest.mark.parametrize("live", ["sqlite"], indirect=True)  # markup does not depend on the database
def test_the_ledger_pages_are_accessible_and_valid_html(live, visitor, devices, tmp_path):
    """axe-core (WCAG 2.1 AA) on the phone check after it ran, and on the period, home and verify pages; the
    Nu HTML Checker on them as the server sends them."""
    import json
    import shutil
    import subprocess

    from .test_screen_a11y import AXE, HX_ATTRIBUTE, VNU, axe_problems, need

    need(AXE, "axe-core")
    account = live.new_compound(name="榆树小区", role=Role.chair)
    january, _february = build_ledger(live, account)
    with live.app.app_context():
        period = db.session.get(Period, january)
        check = f"/{account.slug}/ledger/check/{january}?n={period.head_number}&h={period.head_hash}"
    pages = {"check": check, "period": f"/{account.slug}/ledger/{january}", "home": f"/{account.slug}/ledger/",
             "verify": f"/{account.slug}/ledger/verify?code={period.code}"}
    phone = visitor(bypass_csp=True, **devices["Pixel 5"])  # only so axe's injected script may run
    problems = []
    for name, url in pages.items():
        phone.page.goto(url)
        expect(phone.page.locator("[data-ledger-memory]")).to_have_attribute("data-done", "true")
        problems += axe_problems(phone.page, name)
    assert problems == [], "axe-core found serious or critical WCAG 2.1 AA problems:\n" + "\n".join(problems)

    need(VNU, "vnu-jar")
    java = shutil.which("java")
    if java is None:
        pytest.skip(reason="JAVA: java is not installed")
    files = []
    for name, url in pages.items():
        response = phone.page.request.get(url)
        assert response.status == 200, name
        files.append(tmp_path / f"ledger-{name}.html")
        files[-1].write_text(response.text(), encoding="utf-8")
    result = subprocess.run([java, "-jar", str(VNU), "--stdout", "--errors-only", "--format", "json",
                             *map(str, files)], capture_output=True, text=True, timeout=120)
    report = json.loads(result.stdout or "{}")
    errors = [f"{str(m.get('url', '?')).rsplit('/', 1)[-1]}:{m.get('lastLine', '?')}: {m['message']}"
              for m in report.get("messages", [])
              if m.get("type") in ("error", "non-document-error") and not HX_ATTRIBUTE.search(m.get("message", ""))]
    assert errors == [], "the Nu HTML Checker found errors:\n" + "\n".join(errors)
