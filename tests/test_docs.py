"""The README documents every setting and every command an operator can use."""
import re
from pathlib import Path

from kiosk.config import Defaults

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
FRAMEWORK_PREFIXES = ("SESSION_", "REMEMBER_", "WTF_", "BABEL_", "LANGUAGES", "MAX_CONTENT", "SEND_FILE")


def operator_settings():
    names = [n for n in vars(Defaults) if n.isupper() and not n.startswith(FRAMEWORK_PREFIXES)]
    return names + ["SECRET_KEY", "MAX_CONTENT_LENGTH"]


def test_readme_documents_every_setting():
    variables = [n if n.startswith("KIOSK_") else f"KIOSK_{n}" for n in operator_settings()]
    assert [v for v in variables if f"`{v}`" not in README] == []


def test_readme_documents_every_cli_command(app):
    documented = {name for name in app.cli.list_commands(None)}
    for name in documented:
        assert f"kiosk {name}" in README, name
    assert "kiosk user add" in README


def test_readme_quick_start_has_exactly_two_commands():
    quick = README.split("## Quick start", 1)[1].split("##", 1)[0]
    block = quick.split("```sh", 1)[1].split("```", 1)[0]
    commands = [line for line in block.splitlines() if line.strip()]
    assert [c.split()[0] for c in commands] == ["./scripts/demo", "./scripts/test"]
    for command in commands:
        assert Path(Path(__file__).resolve().parent.parent, command.split()[0]).stat().st_mode & 0o111


def test_readme_says_where_every_area_is():
    """"What is where" has a row for every subpackage of kiosk (a new area gets one)."""
    where = README.split("## What is where", 1)[1].split("\n## ", 1)[0]
    package = Path(__file__).resolve().parent.parent / "kiosk"
    areas = [p.name for p in package.iterdir() if (p / "__init__.py").is_file() and p.name != "migrations"]
    assert len(areas) > 10
    assert [name for name in areas if f"`kiosk/{name}/`" not in where] == []


def test_the_architecture_page_names_files_that_exist():
    """docs/architecture.md tells where things go by file: every path it names is there."""
    root = Path(__file__).resolve().parent.parent
    page = (root / "docs" / "architecture.md").read_text(encoding="utf-8")
    paths = set(re.findall(r"`((?:kiosk|templates|tests|docs)/[\w/.]+)`", page))
    assert len(paths) > 20
    assert sorted(p for p in paths if not (root / p).exists()) == []
