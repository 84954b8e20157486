"""English catalog: complete, covering every UI string in the code, compiled, and actually used by the pages."""
import re
from collections import Counter
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from bs4 import BeautifulSoup

from kiosk.database import utcnow
from kiosk.extensions import db
from kiosk.notices.models import Notice, Status

ROOT = Path(__file__).resolve().parents[1]
MESSAGES = ROOT / "kiosk" / "translations" / "en" / "LC_MESSAGES"
PO = MESSAGES / "messages.po"
MO = MESSAGES / "messages.mo"
# The keywords scripts/i18n.sh passes to `pybabel extract` on top of Babel's defaults.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "N_": None}
PLACEHOLDER = re.compile(r"%\([^)]*\)[#0 +-]*\d*(?:\.\d+)?[a-zA-Z%]")
CJK = re.compile(r"[\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3100-\u312f\u3400-\u4dbf\u4e00-\u9fff"
                 r"\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]")


def _catalog():
    with PO.open("rb") as f:
        return read_po(f, locale="en")


def _entries(catalog):
    """The catalog's real messages (no header)."""
    return [m for m in catalog if m.id]


def _forms(value):
    """A msgid or msgstr as a tuple of its forms (singular and plurals)."""
    return tuple(value) if isinstance(value, (list, tuple)) else (value,)


def _label(message):
    return _forms(message.id)[0]


# --- the catalog itself -----------------------------------------------------------------------------------------

def test_every_message_is_translated_and_not_fuzzy():
    catalog = _catalog()
    entries = _entries(catalog)
    assert entries, f"{PO} has no messages"
    untranslated = [_label(m) for m in entries if not all(s and s.strip() for s in _forms(m.string))]
    fuzzy = [_label(m) for m in entries if m.fuzzy]
    assert not untranslated and not fuzzy, (
        "untranslated in messages.po (run scripts/i18n.sh, then translate):\n" + "\n".join(untranslated)
        + "\nfuzzy in messages.po (check the English, then drop the flag):\n" + "\n".join(fuzzy))
    assert not catalog.fuzzy, "the catalog header is marked fuzzy"


def _extracted():
    """Yield (msgid, context, where) for every string the code marks for translation, like pybabel extract."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f, "babel.cfg")
    # Only walk the folders babel.cfg maps (not .venv or node_modules); the patterns decide the rest.
    tops = {pattern.split("/", 1)[0] for pattern, _method in method_map}

    def wanted(path):
        return Path(path).relative_to(ROOT).parts[0] in tops

    for filename, lineno, message, _comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS, directory_filter=wanted):
        yield _forms(message)[0], context, f"{filename}:{lineno}"


def test_catalog_covers_every_string_in_the_code():
    catalog = _catalog()
    seen = {}
    for msgid, context, where in _extracted():
        seen.setdefault((msgid, context), where)
    assert len(seen) > 50, "extraction found almost nothing: is babel.cfg being read?"
    missing = [f"{msgid!r} ({where})" for (msgid, context), where in sorted(seen.items(), key=lambda i: i[1])
               if catalog.get(msgid, context=context) is None]
    assert not missing, "strings in the code but not in messages.po (run scripts/i18n.sh, then translate):\n" + \
        "\n".join(missing)


def test_the_shipped_mo_matches_the_po():
    catalog = _catalog()
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    fresh = {(m.id, m.string) for m in read_mo(buffer) if m.id}
    with MO.open("rb") as f:
        shipped = {(m.id, m.string) for m in read_mo(f) if m.id}
    stale = sorted(str(_forms(i)[0]) for i, _s in fresh ^ shipped)
    assert fresh == shipped, "messages.mo is out of date (run scripts/i18n.sh compile); differs on:\n" + \
        "\n".join(stale)
    assert len(shipped) == len(_entries(catalog))


def test_translations_keep_the_placeholders():
    wrong = []
    for m in _entries(_catalog()):
        want = Counter(PLACEHOLDER.findall(_forms(m.id)[0]))
        for form in _forms(m.string):
            if form and Counter(PLACEHOLDER.findall(form)) != want:
                wrong.append(f"{_label(m)!r} -> {form!r}")
    assert not wrong, "msgstr placeholders differ from the msgid's:\n" + "\n".join(wrong)


# --- the pages ----------------------------------------------------------------------------------------------------

def _soup(response):
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def _html_lang(soup):
    return soup.find("html").get("lang")


def _leftover_chinese(soup, user_content):
    """Return the Chinese UI text in a page, ignoring the link back to Chinese and the given user content."""
    switch = soup.find("a", attrs={"lang": "zh-CN"})
    assert switch is not None and switch.get_text(strip=True) == "中文", "no language switch back to 中文"
    switch.decompose()
    for tag in soup(["script", "style"]):
        tag.decompose()
    texts = [soup.get_text("\n")]
    texts += [value if isinstance(value, str) else " ".join(value)
              for tag in soup.find_all(True) for value in tag.attrs.values()]
    text = "\n".join(texts)
    for item in user_content:
        if item:
            text = text.replace(item, " ")
    return sorted({line.strip() for line in re.split(r"[|\n]", text) if CJK.search(line)})


def _user_content(compound, *more):
    return [compound.name, compound.community, compound.district, *more]


def test_pages_are_chinese_by_default(client, compound):
    soup = _soup(client.get("/maple/"))
    assert _html_lang(soup) == "zh-CN"
    assert "小区通知" in soup.get_text()
    assert soup.find("a", attrs={"lang": "en"}).get_text(strip=True) == "English"
    login = _soup(client.get("/admin/login"))
    assert _html_lang(login) == "zh-CN" and "委员登录" in login.get_text()


def test_choosing_english_remembers_it_and_goes_back(client, compound):
    response = client.get("/lang/en?next=/maple/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/maple/")
    assert "kiosk_lang=en" in response.headers["Set-Cookie"]


def test_unknown_language_is_ignored(client, compound):
    response = client.get("/lang/xx?next=/maple/")
    assert response.status_code == 302 and "Set-Cookie" not in response.headers
    assert _html_lang(_soup(client.get("/maple/"))) == "zh-CN"


def test_phone_home_in_english(client, compound):
    notice = Notice(compound_id=compound.id, title="电梯停运通知", body="**明天**检修。", category="event",
                    status=Status.published, published_at=utcnow(), pinned=True)
    db.session.add(notice)
    db.session.commit()
    client.get("/lang/en?next=/maple/")
    soup = _soup(client.get("/maple/"))
    assert _html_lang(soup) == "en"
    text = soup.get_text(" ")
    assert "Compound notices" in text and "Large type" in text and "Event" in text
    assert _leftover_chinese(soup, _user_content(compound, notice.title, "明天检修。")) == []

    page = _soup(client.get(f"/maple/n/{notice.id}"))
    assert _html_lang(page) == "en" and "Read aloud" in page.get_text()
    assert _leftover_chinese(page, _user_content(compound, notice.title, "明天", "检修。")) == []


def test_admin_login_in_english(client, compound):
    client.get("/lang/en?next=/maple/")
    soup = _soup(client.get("/admin/login"))
    assert _html_lang(soup) == "en"
    text = soup.get_text(" ")
    assert "Committee member sign-in" in text and "Username" in text and "Password" in text
    assert _leftover_chinese(soup, _user_content(compound)) == []


@pytest.mark.parametrize("path", ["/maple/n/999999", "/no-such-compound/"])
def test_not_found_page_in_english(client, compound, path):
    client.get("/lang/en?next=/maple/")
    response = client.get(path)
    assert response.status_code == 404
    soup = _soup(response)
    assert _html_lang(soup) == "en"
    assert "This page cannot be found." in soup.get_text(" ")
    assert _leftover_chinese(soup, _user_content(compound)) == []


def test_committee_notice_form_in_english(committee_client, compound):
    committee_client.get("/lang/en?next=/admin/")
    response = committee_client.get("/admin/maple/notices/new")
    assert response.status_code == 200
    soup = _soup(response)
    assert _html_lang(soup) == "en"
    assert "Markdown works" in soup.get_text(" ")
    # The message admin.js shows for an oversize image comes from the catalog, not the script's Chinese fallback.
    assert soup.find("input", attrs={"type": "file"})["data-too-big"].startswith("The image is too large")
    assert _leftover_chinese(soup, _user_content(compound)) == []


def test_switching_back_to_chinese(client, compound):
    assert _html_lang(_soup(client.get("/maple/"))) == "zh-CN"
    client.get("/lang/en?next=/maple/")
    assert _html_lang(_soup(client.get("/maple/"))) == "en"
    response = client.get("/lang/zh_CN?next=/maple/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/maple/")
    soup = _soup(client.get("/maple/"))
    assert _html_lang(soup) == "zh-CN"
    assert "小区通知" in soup.get_text() and "Compound notices" not in soup.get_text()
    assert _html_lang(_soup(client.get("/admin/login"))) == "zh-CN"


@pytest.mark.sqlite_only  # the template's language, whatever the database
def test_templates_translate_for_each_request_and_follow_a_forced_language(app, compound):
    """Templates' _() keeps the translations it found for the request's language; a language forced for a while
    (open data is written in Chinese whatever the visitor chose) is used inside, and the visitor's after."""
    from flask import render_template_string
    from flask_babel import force_locale

    page = "{{ _('跳到正文') }}|{{ _('您好，%(name)s', name='<b>') }}|{{ pgettext('list of notices', '通知') }}"
    with app.test_request_context("/maple/", headers={"Cookie": "kiosk_lang=en"}):
        assert render_template_string(page) == "Skip to content|Hello, &lt;b&gt;|Notices"
        with force_locale("zh_CN"):
            assert render_template_string(page) == "跳到正文|您好，&lt;b&gt;|通知"
        assert render_template_string(page) == "Skip to content|Hello, &lt;b&gt;|Notices"
