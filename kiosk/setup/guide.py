"""The committee's quick guide in the starter kit: sections of the manual (docs/使用手册.md) rendered as they
are, so the printed guide never drifts from the manual."""
import re
from pathlib import Path

from ..templating import render_markdown

_PACKAGE = Path(__file__).resolve().parent.parent
# In a checkout the manual sits in docs/ beside the package; the wheel carries it inside (pyproject force-include).
MANUAL_PLACES = (_PACKAGE / "docs" / "使用手册.md", _PACKAGE.parent / "docs" / "使用手册.md")
# The sections a new committee needs in its first weeks, by their headings in the manual.
# Sections by their titles without the chapter's numeral (一、…), which moves when the manual gains a chapter.
QUICK_GUIDE = ("登录与改密码", "发通知", "住户卡", "住户卡发放核验", "登记屏幕", "海报", "开通清单和开通材料包")
_NUMERAL = re.compile(r"^[一二三四五六七八九十]+、")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$")
_IMAGE = re.compile(r"^\s*!\[[^\]]*\]\([^)]*\)\s*$")
_LOCAL_LINK = re.compile(r"\[([^\]]+)\]\((?!https?:)[^)]*\)")  # a link to another file of docs/: keep the words


class ManualMissing(LookupError):
    """The manual, or one of the quick guide's sections, is not where the kit looks."""


def manual_text():
    """The manual's Markdown."""
    for place in MANUAL_PLACES:
        if place.is_file():
            return place.read_text(encoding="utf-8")
    raise ManualMissing("docs/使用手册.md")


def section(text, title):
    """The Markdown of the section headed `title`: its heading and everything up to the next heading of the
    same or a higher level; pictures (they show screens, not paper) and links to other files left out."""
    lines = text.splitlines()
    for start, line in enumerate(lines):
        found = _HEADING.match(line)
        if found and _NUMERAL.sub("", found.group(2)) == title:
            level = len(found.group(1))
            body = [line]
            for rest in lines[start + 1:]:
                heading = _HEADING.match(rest)
                if heading and len(heading.group(1)) <= level:
                    break
                if rest.strip() == "---" or _IMAGE.match(rest):
                    continue
                body.append(_LOCAL_LINK.sub(r"\1", rest))
            return "\n".join(body)
    raise ManualMissing(title)


def quick_guide():
    """[(title, html)] of the quick guide's sections, in order."""
    text = manual_text()
    return [(title, render_markdown(section(text, title))) for title in QUICK_GUIDE]
