"""The committee manual's pictures, taken by walking the demo compound in a real browser.

One walk through what a committee member, a supervisor, a resident and the lobby screen see, on the demo data
(kiosk.demo.load_demo() loaded into the live server's database). Every page visited is checked for something a
person would notice (its heading, a key figure, the answer to what they just did), so the walk is a test and not
only a camera. Each picture goes to test-artifacts/browser/manual-<name>-<backend>.png; with
KIOSK_UPDATE_DOC_IMAGES=1 (SQLite run only) a small palette PNG of it also replaces docs/img/<name>.png, the
images docs/使用手册.md shows. CI does not set the variable, so CI never touches docs/.

    KIOSK_UPDATE_DOC_IMAGES=1 .venv/bin/python -m pytest tests/browser/test_manual_screenshots.py -q -p no:cacheprovider
"""
import os
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from kiosk.auth.models import User
from kiosk.compounds.models import Compound
from kiosk.consult.models import Topic
from kiosk.demo import load_demo
from kiosk.extensions import db
from kiosk.distribution.models import DistributionEvent
from kiosk.ledger.models import Period, PeriodStatus, Question
from kiosk.screen.models import Screen

from .conftest import ARTIFACTS, PASSWORD, expect, password_hash
from .screen_helpers import PORTRAIT, assert_no_csp_or_script_errors

pytestmark = pytest.mark.browser

DOC_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "img"
UPDATE_DOCS = os.environ.get("KIOSK_UPDATE_DOC_IMAGES") == "1"
# A common Android phone, at 1 device pixel per CSS pixel so the pictures stay small.
PHONE = {"viewport": {"width": 393, "height": 851}, "device_scale_factor": 1, "is_mobile": True, "has_touch": True}
A4_SCREEN = {"viewport": {"width": 794, "height": 1123}, "device_scale_factor": 1}
NEW_PASSWORD = "guixiang-committee-2026"
SLUG = "guixiang"


class Camera:
    """Saves what a page shows now (the viewport, never the whole page) for people and, if asked, for the docs."""

    def __init__(self, live):
        self.live = live
        self.taken = []

    def __call__(self, page, name, top=None, width=None):
        """Screenshot `page` as `name`; `top` (a locator) is scrolled to the top first; `width` shrinks the copy."""
        if top is not None:
            top.evaluate("el => el.scrollIntoView({block: 'start'})")
        else:
            page.evaluate("() => window.scrollTo(0, 0)")
        page.wait_for_timeout(150)  # let the scroll and any font swap settle
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        raw = ARTIFACTS / f"manual-{name}-{self.live.backend}.png"
        page.screenshot(path=str(raw), full_page=False)
        self.taken.append(name)
        if UPDATE_DOCS and self.live.backend == "sqlite":
            _doc_copy(raw, DOC_IMAGES / f"{name}.png", width)
        return raw


def _doc_copy(source, target, width=None):
    """A small copy for the manual: optionally scaled down, then reduced to a 64-colour palette."""
    from PIL import Image

    target.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(source) as image:
        image = image.convert("RGB")
        if width and image.width > width:
            image = image.resize((width, round(image.height * width / image.width)), Image.LANCZOS)
        image.quantize(colors=64, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
            target, optimize=True)


def yuan_plain(fen):
    return f"{fen // 100}.{fen % 100:02d}"


def prepare(live):
    """Load the demo into the live database; give the supervisor a known password. Return what the walk needs."""
    with live.app.app_context():
        printed = load_demo()
        supervisor = db.session.scalar(select(User).where(User.username == "demo-supervisor"))
        supervisor.password_hash = password_hash(live.app)
        supervisor.must_change_password = False
        compound = db.session.scalar(select(Compound).where(Compound.slug == SLUG))
        waiting = db.session.scalar(select(Period).where(Period.compound_id == compound.id,
                                                         Period.status == PeriodStatus.submitted))
        question = db.session.scalar(select(Question).where(Question.compound_id == compound.id,
                                                            Question.answered_at.is_(None)))
        charger = db.session.scalar(select(Topic).where(Topic.compound_id == compound.id,
                                                        Topic.title.contains("充电棚")))
        gifts = db.session.scalar(select(Topic).where(Topic.compound_id == compound.id,
                                                      Topic.title.contains("端午节大礼包")))
        dumplings = db.session.scalar(select(DistributionEvent).where(DistributionEvent.compound_id == compound.id,
                                                                      DistributionEvent.name == "冬至汤圆"))
        screen = db.session.scalar(select(Screen).where(Screen.compound_id == compound.id))
        db.session.commit()
        facts = {
            "chair_password": printed["chair_password"], "card": printed["card_token"],
            "card_address": printed["card_address"], "screen_key": printed["screen_key"], "screen_id": screen.id,
            "period_id": waiting.id, "period_closing": waiting.closing_fen,
            "question_entry": question.entry.number, "question_text": question.body,
            "charger_id": charger.id, "charger_title": charger.title, "gifts_id": gifts.id,
            "dumplings_id": dumplings.id,
        }
    return facts


def receipt_photo(folder):
    """A small JPEG standing in for a photo of a receipt."""
    from PIL import Image, ImageDraw

    path = folder / "receipt.jpg"
    image = Image.new("RGB", (480, 640), (250, 248, 240))
    draw = ImageDraw.Draw(image)
    for y in range(80, 560, 40):
        draw.line((40, y, 440, y), fill=(200, 200, 200), width=2)
    draw.rectangle((300, 480, 420, 600), outline=(200, 30, 30), width=6)
    image.save(path, "JPEG", quality=70)
    return path


def test_the_manual_walk(live, visitor, tmp_path):
    facts = prepare(live)
    shot = Camera(live)
    today = datetime.now(ZoneInfo(live.app.config["TIMEZONE"])).date()

    # ---- 登录与改密码: the chair's first login with the one-time password. ----
    chair = visitor(**PHONE)
    page = chair.page
    page.goto("/admin/login")
    expect(page.get_by_role("heading", level=1)).to_have_text("委员登录")
    page.get_by_label("用户名").fill("demo-chair")
    page.get_by_label("密码", exact=True).fill(facts["chair_password"])
    shot(page, "login")
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/admin/password$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("修改密码")
    expect(page.locator("main")).to_contain_text("您在用一次性密码登录")
    page.get_by_label("当前密码").fill(facts["chair_password"])
    page.get_by_label("新密码", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("再输一次新密码").fill(NEW_PASSWORD)
    shot(page, "password")
    page.get_by_role("button", name="保存新密码").click()
    expect(page.locator(".flash")).to_contain_text("密码已更新")

    # ---- 发通知: the list, then a new urgent notice with a display window. ----
    page.goto(f"/admin/{SLUG}/notices/")
    expect(page.get_by_role("heading", level=1)).to_have_text("通知")
    expect(page.locator("#notice-rows")).to_contain_text("明天上午8点至12点全小区停水")
    shot(page, "notices")
    page.get_by_role("link", name="发通知").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("发通知")
    page.get_by_label("标题").fill("本周五下午电梯维保，请走楼梯")
    page.get_by_label("正文").fill("1–3 栋电梯本周五 **14:00–17:00** 维保。\n\n腿脚不便的老人请提前安排出行。")
    page.get_by_label("紧急（红色置顶，大屏显示横幅）").check()
    page.locator("details.more summary").click()
    page.get_by_label("结束显示").fill(f"{today.isoformat()}T23:30")
    shot(page, "notice-form", top=page.get_by_label("标题"))
    page.get_by_role("button", name="发布", exact=True).click()
    expect(page.locator(".flash")).to_contain_text("已发布")

    # ---- What a resident sees on the phone: the new urgent notice on top. ----
    resident = visitor(**PHONE)
    phone = resident.page
    phone.goto(f"/{SLUG}/")
    expect(phone.locator("main")).to_contain_text("本周五下午电梯维保，请走楼梯")
    expect(phone.get_by_role("link", name=re.compile("收支公示"))).to_be_visible()
    shot(phone, "phone-home")

    # ---- 住户名册与住户卡 ----
    page.goto(f"/admin/{SLUG}/households/")
    expect(page.get_by_role("heading", level=1)).to_have_text("住户名册")
    expect(page.locator("main")).to_contain_text("共 216 户")
    shot(page, "households")
    page.goto(f"/admin/{SLUG}/households/import")
    expect(page.get_by_role("heading", level=1)).to_have_text("导入住户名册")
    shot(page, "households-import")
    page.goto(f"/admin/{SLUG}/cards/")
    expect(page.get_by_role("heading", level=1)).to_have_text("打印住户卡")
    expect(page.locator("main")).to_contain_text("旧卡才作废")
    shot(page, "cards")

    # ---- 福利发放: the list, the new-event form, and a pickup by scanning a card. ----
    page.goto(f"/admin/{SLUG}/events/")
    expect(page.get_by_role("heading", level=1)).to_have_text("福利发放")
    expect(page.locator("main")).to_contain_text("已领取 79 / 201 户")
    shot(page, "events")
    page.goto(f"/admin/{SLUG}/events/new")
    expect(page.get_by_role("heading", level=1)).to_have_text("新建发放")
    shot(page, "event-form")
    # A committee member's phone scanning a household card lands on that household's pickup page.
    page.goto(f"/h/{facts['card']}")
    expect(page.get_by_role("heading", level=1)).to_have_text(facts["card_address"])
    expect(page.get_by_role("button", name="标记已领取")).to_be_visible()
    shot(page, "pickup-scan")
    page.get_by_role("button", name="标记已领取").click()
    expect(page.locator(".pick-state-done, .outcome-ok").first).to_contain_text("已领取")
    shot(page, "pickup-done")
    page.goto(f"/admin/{SLUG}/events/{facts['dumplings_id']}")
    expect(page.locator("main")).to_contain_text("已领取 80 / 201 户")

    # ---- 协商议事 ----
    page.goto(f"/admin/{SLUG}/topics/")
    expect(page.get_by_role("heading", level=1)).to_have_text("协商议事")
    expect(page.locator("main")).to_contain_text(facts["charger_title"])
    shot(page, "topics")
    page.goto(f"/admin/{SLUG}/proposals/")
    expect(page.get_by_role("heading", level=1)).to_have_text("居民提议")
    shot(page, "proposals")
    page.goto(f"/admin/{SLUG}/topics/new")
    expect(page.get_by_role("heading", level=1)).to_have_text("新建议题")
    expect(page.get_by_label("法定特别事项（双三分之二参与，双四分之三同意）")).to_be_visible()
    shot(page, "topic-form-rules", top=page.get_by_text("表决方式", exact=True))
    page.goto(f"/admin/{SLUG}/topics/{facts['charger_id']}")
    expect(page.get_by_role("heading", level=1)).to_have_text(facts["charger_title"])
    # The demo's vote in progress is secret: its figures come in released batches, with the sentence saying so.
    expect(page.locator("main")).to_contain_text("分批公布的计票（未截止，不是最终结果）")
    shot(page, "topic-live", top=page.get_by_text("分批公布的计票（未截止，不是最终结果）"))
    paper = page.get_by_role("heading", name="录入纸质票")
    expect(paper).to_be_visible()
    shot(page, "topic-paper", top=paper)
    page.goto(f"/admin/{SLUG}/topics/{facts['gifts_id']}")
    expect(page.locator("main")).to_contain_text("✓ 表决通过。")
    shot(page, "topic-decided")
    expect(page.get_by_role("heading", name="落实情况")).to_be_visible()
    shot(page, "topic-followup", top=page.get_by_role("heading", name="落实情况"))

    # A resident scans the household card, reads the topic, votes, and asks for a code for the lobby screen.
    phone.goto(f"/h/{facts['card']}")
    expect(phone.get_by_role("heading", level=1)).to_have_text(f"我家：{facts['card_address']}")
    shot(phone, "phone-my")
    phone.goto(f"/{SLUG}/topics/{facts['charger_id']}")
    expect(phone.locator(".vote-who")).to_have_text(f"为 {facts['card_address']} 投票")
    phone.locator("label.choice").filter(has_text=re.compile(r"^\s*同意\s*$")).click()
    shot(phone, "phone-vote", top=phone.locator(".vote-who"))
    phone.get_by_role("button", name="投票", exact=True).click()
    expect(phone.locator(".flash-success")).to_contain_text("已投票")
    phone.goto(f"/{SLUG}/my/code")
    phone.get_by_role("button", name="获取投票码").click()
    expect(phone.locator(".one-time-code")).to_have_text(re.compile(r"^\d{3} \d{3}$"))
    shot(phone, "phone-vote-code")

    # ---- 收支记账: overview, a new expense with a receipt, a reversal, a question answered. ----
    page.goto(f"/admin/{SLUG}/ledger/")
    expect(page.get_by_role("heading", level=1)).to_have_text("收支台账 · 公共收益")
    expect(page.locator("main")).to_contain_text("现在账上结余")
    shot(page, "ledger")
    page.get_by_role("link", name="记一笔支出").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("记一笔账 · 公共收益")
    page.get_by_label("日期", exact=True).fill(today.isoformat())
    page.get_by_label("金额（元）").fill("260.00")
    page.get_by_label("类别").select_option(label="维修")
    page.get_by_label("摘要").fill("2 栋单元门闭门器更换")
    page.get_by_label("对方", exact=True).fill("恒固建筑维修队")
    page.get_by_label("收付方式").select_option(label="微信")
    page.get_by_label("收据照片").set_input_files(str(receipt_photo(tmp_path)))
    shot(page, "entry-form", top=page.get_by_label("金额（元）"))
    page.get_by_role("button", name="存并入账").click()
    expect(page.locator(".flash")).to_contain_text(re.compile(r"已入账，编号第 \d+ 号"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("维修")
    expect(page.locator("main")).to_contain_text("¥260.00")
    shot(page, "entry")
    reverse = page.get_by_role("heading", name="记错了？冲销")
    page.get_by_text("冲销这笔账", exact=True).click()
    page.get_by_label("冲销原因").fill("金额录错，发票是 206.00 元")
    shot(page, "entry-reverse", top=reverse)
    page.get_by_role("button", name="确定冲销").click()
    expect(page.locator(".flash")).to_contain_text(re.compile(r"已冲销：第 \d+ 号冲销了第 \d+ 号"))

    page.goto(f"/admin/{SLUG}/ledger/periods/close")
    expect(page.get_by_role("heading", level=1)).to_contain_text("结账：")
    expect(page.locator("main")).to_contain_text("期末余额")
    shot(page, "ledger-close")

    page.goto(f"/admin/{SLUG}/ledger/questions")
    expect(page.get_by_role("heading", level=1)).to_have_text("居民质询")
    expect(page.locator("main")).to_contain_text(facts["question_text"])
    answer = "付给了电工黄建军（个人，按规定公示时不写姓名），人工 120 元、灯泡 60 元，收据照片已补传。"
    page.get_by_label("公开答复").first.fill(answer)
    shot(page, "ledger-question")
    page.get_by_role("button", name="公开答复").first.click()
    expect(page.locator(".flash")).to_contain_text("已答复")
    phone.goto(f"/{SLUG}/ledger/entries/{facts['question_entry']}")
    expect(phone.locator("main")).to_contain_text(answer)
    shot(phone, "phone-entry-answer", top=phone.get_by_text("居民质询", exact=True))

    # A supervisor reviews the month waiting for a second signature and sends it back with a reason.
    supervisor = visitor(**PHONE)
    sup = supervisor.page
    sup.goto("/admin/login")
    sup.get_by_label("用户名").fill("demo-supervisor")
    sup.get_by_label("密码", exact=True).fill(PASSWORD)
    sup.get_by_role("button", name="登录").click()
    expect(sup).to_have_url(re.compile(r"/admin/"))
    sup.goto(f"/admin/{SLUG}/ledger/periods/{facts['period_id']}")
    expect(sup.locator(".ledger-status")).to_contain_text("待监督委员签字")
    expect(sup.get_by_role("button", name="签字同意")).to_be_visible()
    sup.get_by_text("退回", exact=True).click()
    sup.get_by_label("退回原因").fill("10 月管道疏通 980 元没有上传发票照片，请补上后再提交。")
    shot(sup, "period-sign", top=sup.get_by_role("heading", name=re.compile("监督委员签字")))
    sup.get_by_role("button", name="退回给委员会").click()
    expect(sup.locator(".flash")).to_contain_text("已退回")

    # The chair sees why, counts the money again and resubmits.
    page.goto(f"/admin/{SLUG}/ledger/periods/{facts['period_id']}")
    expect(page.get_by_role("heading", name="已退回")).to_be_visible()
    expect(page.locator("main")).to_contain_text("管道疏通 980 元没有上传发票照片")
    page.get_by_label("实际结余（现金 + 银行，元）").fill(yuan_plain(facts["period_closing"]))
    shot(page, "period-returned", top=page.get_by_role("heading", name="已退回"))
    page.get_by_role("button", name="重新提交").click()
    expect(page.locator(".flash")).to_contain_text("已重新提交")
    expect(page.locator(".ledger-status")).to_contain_text("第 2 次提交")

    # The printed disclosure (A4) of the last published month, with amounts in 大写.
    printer = visitor(**A4_SCREEN)
    printer.context.add_cookies(chair.context.cookies())
    with live.app.app_context():
        compound = db.session.scalar(select(Compound).where(Compound.slug == SLUG))
        published = db.session.scalar(select(Period).where(Period.compound_id == compound.id,
                                                           Period.status == PeriodStatus.published)
                                      .order_by(Period.ends_on.desc()))
        published_id = published.id
    printer.page.goto(f"/admin/{SLUG}/ledger/periods/{published_id}/print")
    expect(printer.page.locator("h1")).to_contain_text("公共收益收支公示表")
    expect(printer.page.locator("main, body").first).to_contain_text("元整")
    shot(printer.page, "ledger-print", width=600)

    # The resident's disclosure page.
    phone.goto(f"/{SLUG}/ledger/")
    expect(phone.get_by_role("heading", level=1)).to_have_text("公共收益收支公示")
    expect(phone.locator("main")).to_contain_text("期末结余")
    shot(phone, "phone-ledger")

    # ---- 大屏: the screen's page in the admin, the poster, the screen itself, and offline. ----
    page.goto(f"/admin/{SLUG}/screens/{facts['screen_id']}")
    expect(page.get_by_role("heading", level=1)).to_have_text("3 栋大堂")
    expect(page.locator("main")).to_contain_text(f"/{SLUG}/screen/{facts['screen_key']}")
    shot(page, "screen-admin")
    page.goto(f"/admin/{SLUG}/screens/new")
    expect(page.get_by_role("heading", level=1)).to_have_text("登记屏幕")
    shot(page, "screen-form")
    printer.page.goto(f"/admin/{SLUG}/poster")
    expect(printer.page.locator("h1")).to_have_text("桂香园小区")
    shot(printer.page, "poster", width=600)

    kiosk = visitor(**PORTRAIT)
    screen = kiosk.page
    screen.goto(f"/{SLUG}/screen/{facts['screen_key']}")
    expect(screen.locator("#loop .slide.is-current")).to_have_count(1)
    expect(screen.locator("#banner")).to_contain_text("本周五下午电梯维保，请走楼梯")
    expect(screen.locator("#clock")).to_have_text(re.compile(r"^\d\d:\d\d$"))
    screen.wait_for_function("() => window.htmx !== undefined")
    shot(screen, "screen", width=540)
    screen.locator("#banner .banner-item").first.click()
    expect(screen.locator("#detail h1")).to_have_text("本周五下午电梯维保，请走楼梯")
    shot(screen, "screen-detail", width=540)
    screen.locator("#detail [data-action=home]").first.click()
    expect(screen.locator("body")).not_to_have_class(re.compile(r"\bdetail-open\b"))
    # The server goes away: the screen keeps its slides and says since when its data is.
    live.stop()
    try:
        expect(screen.locator("#offline")).to_be_visible(timeout=15_000)
        expect(screen.locator("#offline")).to_contain_text(re.compile(r"离线 · 数据截至 \d\d:\d\d"))
        expect(screen.locator("#loop .slide.is-current")).to_have_count(1)
        shot(screen, "screen-offline", width=540)
    finally:
        live.start()
    expect(screen.locator("#offline")).to_be_hidden(timeout=15_000)

    for person in (chair, resident, supervisor, printer):
        person.assert_clean()
    assert_no_csp_or_script_errors(kiosk)
    assert len(shot.taken) == len(set(shot.taken)), "two pictures share a name"
