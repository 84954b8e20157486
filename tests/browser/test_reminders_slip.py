"""A printed reminder slip works end to end: the committee prints the open vote's slips, a resident scans one
with a phone and lands on that vote's page (the QR decoded by zbar, a decoder we did not write)."""
import pytest
from sqlalchemy import select

from kiosk.compounds.models import Compound
from kiosk.extensions import db

from .conftest import ARTIFACTS, expect, log_in
from .test_cards import decode_qr

pytestmark = pytest.mark.browser


def open_vote(live, account):
    """Three households and a vote open now, one household already in: two slips to print."""
    from kiosk.auth.models import User
    from factories import households, open_topic
    from kiosk.consult import service as consult

    with live.app.app_context():
        compound = db.session.scalar(select(Compound).where(Compound.slug == account.slug))
        chair = db.session.scalar(select(User).where(User.username == account.username))
        made = households(compound, 3)
        topic = open_topic(compound, chair, title="是否更换 1 栋单元门禁", secret=False)
        consult.cast(compound, topic, made[0], ["yes"])
        db.session.commit()
        return topic.id


def test_a_reminder_slips_qr_opens_the_vote_on_a_phone(live, visitor, devices):
    account = live.new_compound("桂花小区")
    topic_id = open_vote(live, account)
    member = visitor(**devices["Pixel 5"])
    log_in(member.page, account)
    member.page.goto(f"/admin/{account.slug}/topics/{topic_id}")
    member.page.get_by_role("link", name="催票：没投票的住户").click()
    expect(member.page.get_by_text("还有 2 户没有投票")).to_be_visible()
    member.page.get_by_role("link", name="打印提醒条（全部）").click()
    slips = member.page.locator(".slip")
    expect(slips).to_have_count(2)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / f"reminder-slip-{live.backend}.png"
    slips.first.screenshot(path=str(shot))
    payloads = decode_qr(shot)
    assert payloads == [f"{live.base_url}/{account.slug}/topics/{topic_id}"]

    resident = visitor(**devices["Pixel 5"])
    resident.page.goto(payloads[0])
    expect(resident.page.get_by_role("heading", name="是否更换 1 栋单元门禁")).to_be_visible()
    member.assert_clean()
    resident.assert_clean()
