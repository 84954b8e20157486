"""The wheel an operator installs carries everything the server needs: templates, static files,
vendored htmx, migrations and translations, and nothing from a developer's instance folder."""
import hashlib
import json
import os
import re
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HTMX = "htmx-2.0.11-chrome65.min.js"

pytestmark = pytest.mark.slow


def _source_files(folder):
    """The files git tracks under folder (or, outside a git checkout, every file there)."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z", folder], cwd=ROOT, capture_output=True, check=True,
                                timeout=60).stdout.decode().split("\0")
        files = [name for name in listed if name and (ROOT / name).is_file()]
    except (OSError, subprocess.CalledProcessError):
        files = []
    if not files:
        files = [str(p.relative_to(ROOT)) for p in (ROOT / folder).rglob("*")
                 if p.is_file() and "__pycache__" not in p.parts]
    return sorted(files)


def _clean_env(**extra):
    """An environment without this checkout on the path and without any KIOSK_* setting of ours."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("KIOSK_", "FLASK_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """Build the wheel once, the way a release would (an isolated PEP 517 build)."""
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(ROOT)],
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"wheel build failed:\n{result.stdout}\n{result.stderr}"
    wheels = list(out.glob("*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def wheel_names(wheel):
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory):
    """A fresh virtual environment with only the wheel installed (dependencies borrowed from .venv)."""
    base = tmp_path_factory.mktemp("installed")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=300)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    # The dependencies come from our .venv's site-packages; a path line in a .pth does not run that
    # directory's own .pth files, so the editable install of this checkout stays invisible.
    (Path(purelib) / "kiosk_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    result = subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)],
                            capture_output=True, text=True, timeout=300, env=_clean_env())
    assert result.returncode == 0, result.stdout + result.stderr
    return {"venv": venv, "python": python, "kiosk": venv / "bin" / "kiosk", "purelib": Path(purelib), "base": base}


def test_wheel_carries_templates_static_and_migrations(wheel_names):
    for name in ("kiosk/templates/base.html", f"kiosk/static/vendor/{HTMX}", "kiosk/static/vendor/htmx-LICENSE.txt",
                 "kiosk/migrations/env.py", "kiosk/migrations/alembic.ini", "kiosk/migrations/script.py.mako",
                 "kiosk/translations/en/LC_MESSAGES/messages.mo",
                 "kiosk/docs/使用手册.md"):  # the starter kit's quick guide is rendered from the manual
        assert name in wheel_names, f"{name} missing from the wheel"
    # Every template, stylesheet, script and migration of the checkout is in the wheel.
    for folder, inside in (("templates", "kiosk/templates"), ("static", "kiosk/static"),
                           ("kiosk/migrations/versions", "kiosk/migrations/versions")):
        for source in _source_files(folder):
            if source.endswith((".pyc",)):
                continue
            packaged = inside + source[len(folder):]
            assert packaged in wheel_names, f"{source} is not in the wheel as {packaged}"
    assert any(re.fullmatch(r"kiosk/static/css/[^/]+\.css", n) for n in wheel_names)
    assert any(re.fullmatch(r"kiosk/migrations/versions/[^/]+\.py", n) for n in wheel_names)


def test_wheel_has_no_instance_files_secrets_or_caches(wheel_names):
    bad = [n for n in wheel_names
           if n.startswith("instance/") or "/instance/" in n or n.endswith(("secret_key", ".sqlite3", ".pyc", ".db"))
           or "__pycache__" in n or n.startswith(("tests/", "templates/", "static/"))]
    assert bad == []


def test_wheel_declares_the_kiosk_command(wheel, wheel_names):
    entry_points = next(n for n in wheel_names if n.endswith(".dist-info/entry_points.txt"))
    with zipfile.ZipFile(wheel) as archive:
        text = archive.read(entry_points).decode()
    assert re.search(r"^kiosk\s*=\s*kiosk\.cli:main$", text, re.M), text


def test_vendored_htmx_matches_its_version_record():
    record = (ROOT / "static/vendor/htmx.VERSION").read_text()
    fields = dict(line.split(":", 1) for line in record.splitlines() if ":" in line)
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    actual = hashlib.sha256((ROOT / "static/vendor" / HTMX).read_bytes()).hexdigest()
    assert fields["sha256"] == actual, "static/vendor/htmx.VERSION records a different sha256 than the file has"
    assert fields["version"] == "2.0.11"
    assert fields["package"] == "htmx.org"
    assert HTMX in fields["file"]
    assert "0BSD" in fields["license"] and "htmx-LICENSE.txt" in fields["license"]
    license_text = (ROOT / "static/vendor/htmx-LICENSE.txt").read_text()
    assert "Zero-Clause BSD" in license_text or "0BSD" in license_text
    # The file really is htmx 2.0.11 (the minified source carries its version string).
    assert b'version:"2.0.11"' in (ROOT / "static/vendor" / HTMX).read_bytes()
    # ... lowered for Chromium 65 from the published file, by the esbuild that package.json pins.
    assert fields["source sha256"] == "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"
    assert fields["target"] == "chrome65"
    pinned = json.loads((ROOT / "package.json").read_text())["devDependencies"]["esbuild"]
    assert fields["tool"].startswith(f"esbuild {pinned} "), (fields["tool"], pinned)
    assert "--target=chrome65" in fields["command"]
    compat = hashlib.sha256((ROOT / "scripts" / "htmx-compat.js").read_bytes()).hexdigest()
    assert f"scripts/htmx-compat.js (sha256 {compat})" in fields["compat"], "re-run scripts/vendor-htmx.sh"


RENDER = r"""
import hashlib, json, sys
import kiosk
from kiosk import create_app
app = create_app()
client = app.test_client()
out = {"kiosk_file": kiosk.__file__, "templates": app.template_folder, "static": app.static_folder,
       "migrations": app.extensions["migrate"].directory, "instance": app.instance_path}
home = client.get("/guixiang/")
out["home_status"] = home.status_code
out["home_has_title"] = "桂香园小区" in home.get_data(as_text=True)
out["home_has_htmx_script"] = "/static/vendor/htmx-2.0.11-chrome65.min.js" in home.get_data(as_text=True)
js = client.get("/static/vendor/htmx-2.0.11-chrome65.min.js")
out["htmx_status"] = js.status_code
out["htmx_sha256"] = hashlib.sha256(js.get_data()).hexdigest()
css = client.get("/static/css/base.css")
out["css_status"] = css.status_code
login_en = client.get("/admin/login", headers={"Cookie": "kiosk_lang=en"})
out["login_en_status"] = login_en.status_code
out["login_en_lang"] = 'lang="en"' in login_en.get_data(as_text=True)
with app.test_request_context("/admin/login", headers={"Cookie": "kiosk_lang=en"}):
    from flask_babel import get_translations
    out["en_catalogues"] = [str(f) for f in getattr(get_translations(), "files", [])]
print("RESULT" + json.dumps(out))
"""


def test_installed_wheel_runs_the_demo_outside_the_checkout(installed, tmp_path):
    instance = tmp_path / "inst"
    env = _clean_env(KIOSK_INSTANCE_PATH=str(instance))
    demo = subprocess.run([str(installed["kiosk"]), "demo", "--no-serve"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "http://127.0.0.1:8080/guixiang/" in demo.stdout
    assert "one-time password:" in demo.stdout
    # The database and the generated secret are in the chosen instance folder, not in the package.
    assert (instance / "kiosk.sqlite3").is_file()
    assert (instance / "secret_key").is_file()
    assert not (installed["purelib"] / "kiosk" / "instance").exists()
    assert not (installed["purelib"] / "instance").exists()

    run = subprocess.run([str(installed["python"]), "-c", RENDER], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    out = json.loads(run.stdout.split("RESULT", 1)[1])
    package = installed["purelib"] / "kiosk"
    # Everything is loaded from the installed package, none of it from this checkout.
    for key in ("kiosk_file", "templates", "static", "migrations"):
        assert Path(out[key]).resolve().is_relative_to(package), (key, out[key])
    assert out["home_status"] == 200 and out["home_has_title"] and out["home_has_htmx_script"]
    assert out["htmx_status"] == 200
    assert out["htmx_sha256"] == hashlib.sha256((ROOT / "static/vendor" / HTMX).read_bytes()).hexdigest()
    assert out["css_status"] == 200
    # The compiled English catalogue ships too, and an English visitor's pages are read from it.
    assert out["login_en_status"] == 200 and out["login_en_lang"]
    assert [Path(f).resolve().is_relative_to(package) for f in out["en_catalogues"]] == [True], out["en_catalogues"]


def test_installed_wheel_without_instance_setting_stays_out_of_site_packages(installed, tmp_path):
    """An operator who forgets KIOSK_INSTANCE_PATH must not get the database and secret written into
    site-packages (read-only for many installs, and wiped by an upgrade)."""
    env = _clean_env()
    run = subprocess.run([str(installed["kiosk"]), "init"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    where = subprocess.run([str(installed["python"]), "-c",
                            "from kiosk import create_app; print(create_app().instance_path)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert where.returncode == 0, where.stderr
    instance = Path(where.stdout.strip().splitlines()[-1]).resolve()
    assert not instance.is_relative_to(installed["purelib"].resolve()), instance
    assert (instance / "kiosk.sqlite3").is_file() and (instance / "secret_key").is_file()
