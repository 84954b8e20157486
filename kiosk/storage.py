"""What the server keeps on disk (the database and its WAL, backups, the secret key, uploads) is readable by
its own account alone: files 0600, folders 0700, whatever the umask of whoever started it.

SQLite creates a database 0644 (less the umask) and gives its -wal, -shm and -journal files the database
file's mode, so a database created here empty and 0600 keeps every file beside it private too.
"""
import logging
import os
import stat
from pathlib import Path

from sqlalchemy import make_url

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")

log = logging.getLogger("kiosk")


def tighten(path):
    """Take group and other permissions off an existing file or folder, saying so in the log."""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return
    if mode & 0o077:
        try:
            os.chmod(path, mode & ~0o077)
        except OSError as error:  # not ours to change (another owner): say so, keep serving
            log.warning("%s is readable by other accounts (%04o) and could not be tightened: %s", path, mode, error)
            return
        log.warning("tightened %s from %04o to %04o: it holds residents' data", path, mode, mode & ~0o077)


def private_dir(path):
    """Create a folder 0700 (parents as the umask says), or tighten it if it exists."""
    path = Path(path)
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    tighten(path)
    return path


def create_private_file(path):
    """Create an empty file 0600; FileExistsError if something is already there."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))


def sqlite_path(url):
    """The file of a SQLite database URL, or None (another engine, or an in-memory database)."""
    url = make_url(url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    if url.database.startswith("file:"):
        return None  # a URI filename: whoever wrote it chose its options
    return Path(url.database)


def secure_sqlite(path):
    """Create the database file 0600 before SQLite does (so its -wal/-shm follow), or tighten what exists."""
    if not path.parent.is_dir():
        return  # SQLite itself will say the folder is missing
    try:
        create_private_file(path)
    except FileExistsError:
        tighten(path)
    for suffix in SQLITE_COMPANIONS:
        tighten(f"{path}{suffix}")


def secure_instance(app):
    """At start-up: the instance and upload folders 0700, the secret key and the SQLite files 0600."""
    instance = private_dir(app.instance_path)
    tighten(instance / "secret_key")
    upload = app.config.get("UPLOAD_DIR")
    private_dir(upload if upload else instance / "uploads")
    database = sqlite_path(app.config["SQLALCHEMY_DATABASE_URI"])
    if database is not None:
        secure_sqlite(database)
