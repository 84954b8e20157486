"""Open data anyone can take away, without logging in: a compound's page listing its files with their dates,
each file, one ZIP of them all, and the district's archive of every compound (slugs as folders).

The files are built once per compound version (a published period or a decided topic bumps it) and kept in
memory; the responses are public and may be kept by any cache for a few minutes, with an ETag to revalidate.
"""
import hashlib
import threading

from flask import Blueprint, abort, current_app, g, make_response, render_template, request
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from .. import exports
from ..compounds.context import bind_compound
from ..compounds.models import REAL, Compound
from ..extensions import db
from ..ledger.models import BOOK_LABELS
from . import build

bp = bind_compound(Blueprint("opendata", __name__, url_prefix="/<compound>/open-data"))
district_bp = Blueprint("opendata_district", __name__, url_prefix="/open-data")

MAX_AGE = 300  # seconds a browser or proxy may keep a file before asking again (ETag: usually a 304)
TYPES = {"json": "application/json; charset=utf-8", "csv": exports.CSV_TYPE, "md": "text/markdown; charset=utf-8",
         "sha256": "text/plain; charset=utf-8", "zip": "application/zip"}
_lock = threading.Lock()


def blueprints():
    return [bp, district_bp]


def describe(path):
    """What a file holds, in words a resident reads on the page."""
    parts = path.split("/")
    if parts[0] == "ledger":
        book = BOOK_LABELS.get(parts[1], parts[1])
        if parts[2].startswith("periods."):
            return _("%(book)s：各期公示的汇总和核对码", book=book)
        start, _sep, end = parts[2].rpartition(".")[0].partition("_")
        return _("%(book)s：%(start)s 至 %(end)s 的每一笔和核对链", book=book, start=start, end=end)
    if path.startswith("consultations/results."):
        return _("已截止议题的表决结果")
    if path.startswith("consultations/resolutions."):
        return _("决议公告和落实情况")
    if path == build.MANIFEST:
        return _("每个文件的 SHA-256 校验值")
    return _("字段说明和核对码的算法")


def files_of(compound):
    """The compound's open-data files, rebuilt when its version moved."""
    cache = current_app.extensions.setdefault("kiosk_open_data", {})
    with _lock:
        found = cache.get(compound.id)
    if found is not None and found[0] == compound.version:
        return found[1]
    # The files are the same for every reader: option and electorate labels in the compound's own language,
    # whatever language the first visitor after a change chose.
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        files = build.compound_files(compound)
    with _lock:
        cache[compound.id] = (compound.version, files)
    return files


def publishes(compound):
    """Whether the compound's data is real and public: not a practice or hidden compound (flags another part of
    issue 17 may add; a compound without them is real)."""
    return not getattr(compound, "practice", False) and not getattr(compound, "hidden", False)


def district_compounds():
    """Every compound the district publishes, by slug."""
    return [c for c in db.session.scalars(select(Compound).where(REAL).order_by(Compound.slug)) if publishes(c)]


def _public(response, etag=None):
    """Public data: any cache may keep it a few minutes; a repeat request with the ETag gets a 304."""
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    if etag:
        response.set_etag(etag)
        response.make_conditional(request)
    return response


def download(data, ascii_name, name, kind, etag, inline=False):
    """A file as a response: ZIP and CSV as downloads (inside WeChat, the page saying how), others inline."""
    if not inline and exports.in_wechat():
        return exports.wechat_page()
    response = make_response(data)
    response.content_type = TYPES[kind]
    if not inline:
        exports.attachment(response, ascii_name, name)
    return _public(response, etag)


@bp.route("/")
def index():
    """The compound's open data: what there is, each file with its date, and the archive of everything."""
    compound = g.compound
    if not publishes(compound):
        abort(404)
    files = files_of(compound)
    return render_template("opendata/index.html", files=files, describe=describe,
                           total=sum(len(f.data) for f in files))


def zipped(key, folders):
    """The ZIP of `folders`, made once per key (the compounds' versions) and kept for the next request."""
    cache = current_app.extensions.setdefault("kiosk_open_data_zips", {})
    with _lock:
        found = cache.get(key)
    if found is None:
        found = build.zip_bytes(folders())
        with _lock:
            if len(cache) > 64:  # old versions are never asked for again
                cache.clear()
            cache[key] = found
    return found


@bp.route("/all.zip")
def archive():
    """Everything of the compound in one ZIP (the compound's slug as its folder)."""
    compound = g.compound
    if not publishes(compound):
        abort(404)
    etag = f"{compound.id}.{compound.version}"
    data = zipped(etag, lambda: {compound.slug: files_of(compound)})
    return download(data, f"{compound.slug}-open-data.zip", f"{compound.name}-开放数据.zip", "zip", etag)


@bp.route("/files/<path:file_path>")
def file(file_path):
    """One file of the compound's open data, by its path in the archive."""
    compound = g.compound
    if not publishes(compound):
        abort(404)
    found = next((f for f in files_of(compound) if f.path == file_path), None)
    if found is None:
        abort(404)
    kind = file_path.rsplit(".", 1)[-1]
    base = file_path.replace("/", "-")
    return download(found.data, f"{compound.slug}-{base}", f"{compound.slug}-{base}", kind, found.sha256,
                    inline=kind != "csv")


@district_bp.route("/")
def district():
    """The district's open data: each compound's page and the archive of them all."""
    return render_template("opendata/district.html", compounds=district_compounds())


@district_bp.route("/district.zip")
def district_archive():
    """Every published compound's open data in one ZIP, each compound's slug as its folder."""
    compounds = district_compounds()
    etag = hashlib.sha256("-".join(f"{c.id}.{c.version}" for c in compounds).encode()).hexdigest()[:32]
    data = zipped(etag, lambda: {c.slug: files_of(c) for c in compounds})
    return download(data, "district-open-data.zip", "街道开放数据.zip", "zip", etag)
