"""A printed numbered ballot works end to end: number the set, print, decode one ballot's QR from Chromium's
rendering with zbar, and the QR opens the committee's entry page with that number (a resident sees nothing)."""
import pytest

from kiosk.extensions import db

from .conftest import ARTIFACTS, expect, log_in, screenshot
from .test_cards import decode_qr

pytestmark = pytest.mark.browser


def open_lift_vote(live, account):
    """Three households of building 3 and a lift vote open on them; returns the topic's id."""
    import sys
    from pathlib import Path

    from sqlalchemy import select

    from kiosk.auth.models import User
    from kiosk.compounds.models import Compound

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import factories

    with live.app.app_context():
        compound = db.session.scalar(select(Compound).where(Compound.slug == account.slug))
        member = db.session.scalar(select(User).where(User.username == account.username))
        factories.households(compound, 3, building=lambda i: "3", room=lambda i: f"{501 + i}")
        return factories.open_topic(compound, member, title="3栋电梯更新改造", secret=False).id


def test_printed_ballot_qr_opens_the_entry_page_for_that_number(live, visitor, devices):
    account = live.new_compound("桂花小区")
    topic_id = open_lift_vote(live, account)
    member = visitor(viewport={"width": 1280, "height": 1000}, has_touch=True)  # the committee's desk computer prints
    log_in(member.page, account)
    member.page.goto(f"/admin/{account.slug}/topics/{topic_id}/paper-ballots")
    member.page.get_by_role("button", name="为投票名单上的每一户编号").click()
    expect(member.page.get_by_text("已为 3 户编好票号")).to_be_visible()
    member.page.goto(f"/admin/{account.slug}/topics/{topic_id}/paper-ballots/sheets")
    screenshot(member.page, "paper-ballots", live)
    second = member.page.locator(".paper-ballot").nth(1)
    expect(second.locator(".paper-number")).to_have_text("No. 0002")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / f"paper-ballot-{live.backend}.png"
    second.locator(".paper-qr").screenshot(path=str(shot))
    payloads = decode_qr(shot)
    assert len(payloads) == 1 and f"/admin/{account.slug}/topics/paper/" in payloads[0]

    member.page.goto(payloads[0])
    expect(member.page.get_by_label("票号或扫码")).to_have_value("2")
    resident = visitor(**devices["Pixel 5"])
    resident.page.goto(payloads[0])
    assert "/admin/login" in resident.page.url and "3栋" not in resident.page.content()
    member.assert_clean()
