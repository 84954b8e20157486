"""Inside WeChat: print views say how to open them in a browser (there is no print dialog there). Everywhere: the
ICP filing number (备案号), when the site has one, in every page's footer as a link to the MIIT filing system."""
import pytest

from kiosk.config import env_overrides
from kiosk.households.models import Household

from conftest import login_as
from test_exports import WECHAT, WECHAT_WORK

ICP = "湘ICP备12345678号-1"
POSTER = "/admin/maple/poster"


@pytest.mark.parametrize("agent", [WECHAT, WECHAT_WORK])
def test_a_print_view_inside_wechat_says_to_open_the_browser_instead_of_offering_print(committee_client, agent):
    response = committee_client.get(POSTER, headers={"User-Agent": agent})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "微信里不能打印。请点右上角 ··· 选择「在浏览器中打开」，再打印。" in html
    assert "data-print" not in html and "用浏览器的“打印”功能打印" not in html
    assert "User-Agent" in response.headers["Vary"]


def test_a_print_view_in_a_browser_offers_a_print_button_from_a_static_script(committee_client):
    html = committee_client.get(POSTER, headers={"User-Agent": "Mozilla/5.0 (Linux; Android 12) Chrome/120"}) \
        .get_data(as_text=True)
    assert "data-print hidden" in html and "/static/js/print.js" in html and "在浏览器中打开" not in html
    assert "<script>" not in html  # nothing inline: the strict CSP would block it


def test_the_icp_setting_comes_from_the_environment_like_the_others():
    assert env_overrides({"KIOSK_ICP_NUMBER": ICP}) == {"ICP_NUMBER": ICP}


def footers(app, compound, chair):
    """The footer of a resident's page, the household page, the committee's login and a committee page."""
    household = Household(compound_id=compound.id, building="1", entrance="", room="101", area_centi=9000)
    from kiosk.extensions import db
    db.session.add(household)
    db.session.commit()
    anonymous, committee = app.test_client(), app.test_client()
    login_as(committee, chair)
    pages = [anonymous.get("/maple/"), anonymous.get("/maple/my"), anonymous.get("/"),
             app.test_client().get("/admin/login"), committee.get("/admin/maple/notices/"),
             anonymous.get("/maple/no-such-page")]
    return [p.get_data(as_text=True).split('<footer class="foot">', 1)[1] for p in pages]


def test_every_footer_shows_the_icp_number_linked_to_the_filing_system(app, compound, chair):
    app.config["ICP_NUMBER"] = ICP
    for footer in footers(app, compound, chair):
        assert f'<a href="https://beian.miit.gov.cn/" rel="noopener noreferrer">{ICP}</a>' in footer


def test_no_icp_line_when_the_site_has_none(app, compound, chair):
    assert not app.config.get("ICP_NUMBER")
    for footer in footers(app, compound, chair):
        assert "beian.miit.gov.cn" not in footer
