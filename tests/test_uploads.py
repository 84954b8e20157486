"""Images attached to notices: cleaned of metadata, stored privately, shown only with a public notice."""
import io
import os
import re
import struct
import zlib
from pathlib import Path

import pytest
from PIL import ExifTags, Image as PILImage
from sqlalchemy import func, select

from kiosk.auth.models import Role
from kiosk.extensions import db
from kiosk.notices.models import Notice
from kiosk.uploads import Image

from conftest import csrf_token, login_as, post_form
from security_support import ROUTE_APP, app, back_links, jpeg_bytes, soup_of, traceback_signs  # noqa: F401

NEW = "/admin/maple/notices/new"
HEX_NAME = re.compile(r"^[0-9a-f]{32}\.(jpg|png)$")


def notice_with_image(data, filename="photo.jpg", action="publish", **fields):
    form = {"title": "楼道照片", "body": "", "category": "notice", "action": action,
            "image": (io.BytesIO(data), filename, "image/jpeg")}
    form.update(fields)
    return form


def post_image(client, data, filename="photo.jpg", action="publish"):
    return post_form(client, NEW, notice_with_image(data, filename, action), content_type="multipart/form-data")


def photo_with_gps():
    exif = PILImage.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x0110] = "Model-7"  # Model
    exif[0x0112] = 6  # Orientation: rotate 90° to show upright
    exif[ExifTags.IFD.GPSInfo] = {1: "N", 2: (28.0, 11.0, 30.5), 3: "E", 4: (112.0, 58.0, 12.0)}
    data = jpeg_bytes(size=(64, 48), exif=exif)
    # The test's own premise: the original really carries GPS.
    assert PILImage.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    return data


def files_under(folder):
    folder = Path(folder)
    return {p.relative_to(folder) for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()


def uploads_folder(app):
    return Path(app.instance_path) / "uploads"


def count(model):
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def test_photo_is_stored_without_exif_or_gps_under_a_random_name_outside_static(app, committee_client):
    static_before = files_under(ROUTE_APP.static_folder)
    response = post_image(committee_client, photo_with_gps())
    assert response.status_code == 302
    image = db.session.scalar(select(Image))
    assert HEX_NAME.match(image.filename)
    stored = uploads_folder(app) / image.filename
    assert stored.is_file()
    assert Path(app.instance_path) in stored.resolve().parents
    assert files_under(ROUTE_APP.static_folder) == static_before  # nothing lands in the public static folder
    data = stored.read_bytes()
    assert b"SpyCam" not in data and b"Model-7" not in data and b"Exif" not in data
    clean = PILImage.open(io.BytesIO(data))
    assert len(clean.getexif()) == 0 and not clean.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert clean.size == (48, 64)  # the orientation was applied before it was dropped
    # Residents see it with the notice, from /<slug>/media/<name>.
    client = app.test_client()
    notice = db.session.scalar(select(Notice))
    page = client.get(f"/maple/n/{notice.id}").get_data(as_text=True)
    assert f"/maple/media/{image.filename}" in page
    served = client.get(f"/maple/media/{image.filename}")
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert served.data == data
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(f"/static/../instance/uploads/{image.filename}").status_code == 404


def test_draft_image_is_for_the_committee_only(app, committee_client, make_compound, make_user):
    assert post_image(committee_client, jpeg_bytes(), action="draft").status_code == 302
    image = db.session.scalar(select(Image))
    notice = db.session.scalar(select(Notice))
    url = f"/maple/media/{image.filename}"
    resident = app.test_client()
    assert resident.get(url).status_code == 404
    seen = committee_client.get(url)
    assert seen.status_code == 200 and seen.mimetype == "image/jpeg"
    cache = seen.headers.get("Cache-Control", "")
    assert "public" not in cache and ("no-store" in cache or "private" in cache), cache
    outsider = app.test_client()
    login_as(outsider, make_user("outsider", make_compound("oak", "橡树小区"), Role.chair))
    assert outsider.get(url).status_code == 404
    assert outsider.get(f"/oak/media/{image.filename}").status_code == 404
    token = csrf_token(committee_client, "/admin/maple/notices/")
    committee_client.post(f"/admin/maple/notices/{notice.id}/publish", data={"csrf_token": token})
    assert resident.get(url).status_code == 200
    committee_client.post(f"/admin/maple/notices/{notice.id}/archive", data={"csrf_token": token})
    assert resident.get(url).status_code == 404


NOT_IMAGES = {
    "text": b"just some notes, not a picture\n",
    "html": b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>",
    "svg": (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
            b'<script>alert(1)</script><rect width="10" height="10"/></svg>'),
    "pdf": b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
    "truncated png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00",
}


@pytest.mark.parametrize("kind", NOT_IMAGES)
def test_non_image_renamed_png_is_refused_next_to_the_field_and_nothing_saved(app, committee_client, kind):
    response = post_image(committee_client, NOT_IMAGES[kind], filename="picture.png")
    assert response.status_code == 400
    soup = soup_of(response)
    field = soup.find("input", attrs={"name": "image"}).find_parent(class_="field")
    errors = [p.get_text() for p in field.find_all(class_="error")]
    assert errors and re.search(r"[\u4e00-\u9fff]", errors[0]), errors
    assert "图片" in errors[0]
    assert soup.find("input", attrs={"name": "title"})["value"] == "楼道照片"  # the rest is kept for a retry
    assert count(Notice) == 0 and count(Image) == 0
    assert files_under(uploads_folder(app)) == set()


def test_oversized_body_is_refused_from_content_length_before_reading(app, committee_client):
    """A huge declared body is answered 413 before a byte of it is read, with a calm page."""

    class Tracking(io.BytesIO):
        reads = 0

        def read(self, *args):
            Tracking.reads += 1
            return super().read(*args)

        readline = read

    token = csrf_token(committee_client, NEW)
    response = committee_client.post(
        NEW, data={"csrf_token": token}, content_type="multipart/form-data; boundary=kiosk",
        environ_overrides={"CONTENT_LENGTH": str(app.config["MAX_CONTENT_LENGTH"] * 50),
                           "wsgi.input": Tracking(b"--kiosk\r\n")})
    assert response.status_code == 413
    assert Tracking.reads == 0
    body = response.get_data(as_text=True)
    assert "文件太大了" in body and not traceback_signs(body) and back_links(response)
    assert count(Notice) == 0


def test_body_over_the_limit_is_413_and_nothing_saved(app, committee_client):
    app.config["MAX_CONTENT_LENGTH"] = 20_000
    noise = PILImage.frombytes("RGB", (200, 200), os.urandom(200 * 200 * 3))
    out = io.BytesIO()
    noise.save(out, "PNG")
    assert len(out.getvalue()) > 20_000
    response = post_image(committee_client, out.getvalue(), filename="big.png")
    assert response.status_code == 413
    assert "文件太大了" in response.get_data(as_text=True)
    assert count(Notice) == 0 and count(Image) == 0
    assert files_under(uploads_folder(app)) == set()


def png_declaring(width, height):
    """A tiny PNG whose header claims width×height (pixels never decoded)."""
    out = io.BytesIO()
    PILImage.new("L", (1, 1)).save(out, "PNG")
    data = bytearray(out.getvalue())
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def real_large_png(width, height):
    """A valid, fully decodable PNG that compresses to almost nothing."""
    out = io.BytesIO()
    PILImage.new("1", (width, height)).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize("build", [lambda: png_declaring(20000, 20000), lambda: real_large_png(7000, 7000)],
                         ids=["header claims 20000x20000", "real 7000x7000 (49 MP)"])
def test_decompression_bomb_is_refused(app, committee_client, build):
    data = build()
    assert len(data) < 200_000  # small on the wire...
    width, height = struct.unpack(">II", data[16:24])  # from the PNG header, as Pillow would read it
    assert width * height > app.config["IMAGE_MAX_PIXELS"]  # ...huge in memory
    response = post_image(committee_client, data, filename="bomb.png")
    assert response.status_code == 400
    field = soup_of(response).find("input", attrs={"name": "image"}).find_parent(class_="field")
    assert "图片" in field.get_text()
    assert count(Notice) == 0 and count(Image) == 0
    assert files_under(uploads_folder(app)) == set()


@pytest.mark.parametrize("filename", ["../../static/evil.jpg", "..\\..\\evil.jpg", "/etc/cron.d/evil.jpg",
                                      "../secret_key", "evil.jpg\x00.png"])
def test_path_in_uploaded_filename_has_no_effect(app, committee_client, filename, tmp_path):
    instance_before = files_under(tmp_path)
    static_before = files_under(ROUTE_APP.static_folder)
    secret_before = (Path(app.instance_path) / "secret_key").exists()
    assert post_image(committee_client, jpeg_bytes(), filename=filename).status_code == 302
    image = db.session.scalar(select(Image))
    assert HEX_NAME.match(image.filename)
    added = files_under(tmp_path) - instance_before
    assert added == {Path("instance") / "uploads" / image.filename}
    assert files_under(ROUTE_APP.static_folder) == static_before
    assert (Path(app.instance_path) / "secret_key").exists() == secret_before
    assert not Path("/etc/cron.d/evil.jpg").exists()


def test_bytes_hidden_after_an_image_are_not_kept(app, committee_client):
    """A polyglot (a real PNG with HTML appended) is re-encoded: the appended part is gone."""
    out = io.BytesIO()
    PILImage.new("RGB", (32, 32), (0, 128, 0)).save(out, "PNG")
    polyglot = out.getvalue() + b"<html><script>alert(1)</script></html>"
    assert post_image(committee_client, polyglot, filename="x.png").status_code == 302
    image = db.session.scalar(select(Image))
    served = app.test_client().get(f"/maple/media/{image.filename}")
    assert served.status_code == 200
    assert b"<script>" not in served.data and b"<html" not in served.data


def test_media_route_does_not_walk_out_of_the_upload_folder(app, client, compound):
    (uploads_folder(app)).mkdir(parents=True, exist_ok=True)
    secret = (Path(app.instance_path) / "secret_key")
    secret.write_text("top-secret-value\n")
    for name in ["..%2Fsecret_key", "..%2F..%2Finstance%2Fsecret_key", "%2e%2e%2fsecret_key", "..", "%2e%2e"]:
        response = client.get(f"/maple/media/{name}")
        assert response.status_code == 404, name
        assert b"top-secret-value" not in response.data
