"""Screen to phone: the QR code on a slide, read by a decoder nobody here wrote, opens the same notice."""
import re
import shutil
import subprocess

import pytest

from .conftest import ARTIFACTS, IN_CI, expect
from .screen_helpers import open_kiosk

pytestmark = pytest.mark.browser

TITLE = "二季度公共收益收支明细公示"
BODY = "停车场收入 ¥12,300.00，广告位收入 ¥4,800.00。\n\n支出：监控维修 ¥3,150.00，清淤 ¥2,600.00。"


def decode_qr(png):
    """Return the payloads of every QR code zbar finds in a PNG (zbarimg, else pyzbar)."""
    zbarimg = shutil.which("zbarimg")
    if zbarimg:
        result = subprocess.run([zbarimg, "--nodbus", "-q", "--raw", str(png)], capture_output=True, text=True,
                                timeout=30)
        assert result.returncode in (0, 4), result.stderr
        return result.stdout.splitlines()
    try:
        from PIL import Image
        from pyzbar.pyzbar import decode
    except ImportError as exc:  # pragma: no cover - depends on the machine
        message = f"ZBAR: neither zbarimg nor pyzbar is available ({exc})"
        pytest.fail(message) if IN_CI else pytest.skip(reason=message)
    return [symbol.data.decode() for symbol in decode(Image.open(png))]


def shoot(page, name, live):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}-{live.backend}.png"
    page.screenshot(path=str(path))
    return path


@pytest.mark.parametrize("orientation", ["portrait", "landscape"])
def test_qr_on_the_screen_opens_the_same_notice_on_a_phone(live, visitor, devices, orientation):
    compound = live.new_compound(name="枫树小区")
    notice_id = compound.add_notice(TITLE, body=BODY, category="disclosure", pinned=True, published_minutes_ago=5)
    compound.add_notice("快递柜搬到南门", published_minutes_ago=60)
    path = compound.add_screen(orientation=orientation, dwell_seconds=60)
    expected = re.compile(rf"^http://[^/\s]+/{re.escape(compound.slug)}/n/{notice_id}$")

    kiosk = open_kiosk(visitor, path, orientation)
    page = kiosk.page
    expect(page.locator("#loop .slide.is-current")).to_have_attribute("data-slide-id", f"notices-{notice_id}")
    # What a resident's phone camera sees: the screen as it is, with one slide and its QR code on it.
    found = decode_qr(shoot(page, f"screen-qr-{orientation}", live))
    assert len(found) == 1, f"expected one QR code on the {orientation} screen, zbar found {found}"
    url = found[0]
    assert expected.match(url), f"the slide's QR code says {url!r}, not an absolute link to notice {notice_id}"

    # The full-screen detail carries the same code.
    page.locator("#loop .slide.is-current").tap()
    expect(page.locator("#detail").get_by_role("heading", level=1)).to_have_text(TITLE)
    assert decode_qr(shoot(page, f"screen-qr-{orientation}-detail", live)) == [url]
    kiosk.assert_clean()

    resident = visitor(**devices["Pixel 5"])
    phone = resident.page
    phone.goto(url)
    expect(phone).to_have_url(url)
    expect(phone.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(phone.locator("article.notice .prose")).to_contain_text("¥12,300.00")
    resident.assert_clean()
