"""Settings: defaults here, then instance/config.py, then KIOSK_* environment, then test config."""
import os
import secrets
from pathlib import Path

# Values that must never sign a production session.
MIN_PASSWORD_ITERATIONS = 600_000  # OWASP ASVS 5 for PBKDF2-HMAC-SHA256
PLACEHOLDER_SECRETS = {"", "dev", "secret", "change-me", "changeme", "please-change", "placeholder"}
MIN_SECRET_LENGTH = 32


class Defaults:
    """Defaults for every setting the application reads."""

    KIOSK_ENV = "production"
    DATABASE_URL = None  # None: SQLite file in the instance folder
    PUBLIC_URL = None  # e.g. https://kiosk.example.org; used to build QR payloads
    TIMEZONE = "Asia/Shanghai"
    ICP_NUMBER = None  # the site's ICP filing number (备案号), e.g. 湘ICP备12345678号-1; shown in every footer
    TRUSTED_PROXIES = 0
    POLL_SECONDS = 2  # how often lobby screens ask whether anything changed
    SWEEP_SECONDS = 15  # how often the serving process closes votes whose deadline has passed
    VERIFY_CACHE_SECONDS = 300  # the public ledger check recomputes a compound's chain at most this often
    SECRET_TALLY_MINUTES = 3  # a secret vote's figures move at most this often while it is open
    SECRET_TALLY_BATCH = 5  # ...and only when at least this many more households have voted
    PAGE_CACHE_SECONDS = 10  # public pages kept in memory per compound version; 0 turns it off
    FAST_VOTE = 1  # a phone's certain ballot is answered below Flask (consult/fastvote.py); 0 turns it off
    BUSY_TIMEOUT_MS = 10_000  # how long a request waits for a database lock before a calm 503
    UPLOAD_DIR = None  # None: instance/uploads
    MAX_CONTENT_LENGTH = 8 * 1024 * 1024
    SEND_FILE_MAX_AGE_DEFAULT = 86400
    IMAGE_MAX_PIXELS = 40_000_000
    IMAGE_MAX_SIDE = 1600
    DOCUMENT_MAX_BYTES = 8 * 1024 * 1024  # a PDF upload; no larger than MAX_CONTENT_LENGTH, or the 413 page answers first
    DOCUMENT_MAX_PAGES = 200
    DOCUMENT_PAGE_SIDE = 1600  # a PDF page is rendered at 150 dpi, at most this many pixels on its long side
    ADMIN_IDLE_MINUTES = 30
    LOGIN_ACCOUNT_LIMIT = 10  # failures per account per window
    LOGIN_ADDRESS_LIMIT = 30  # failures per address per window
    LOGIN_WINDOW_MINUTES = 15
    PASSWORD_ITERATIONS = 600_000
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_NAME = "kiosk_session"
    REMEMBER_COOKIE_HTTPONLY = True
    WTF_CSRF_TIME_LIMIT = None  # the session bounds the token's life
    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ("zh_CN", "en")


def env_overrides(environ=os.environ):
    """Return settings taken from KIOSK_* environment variables, prefix removed."""
    ints = {k for k, v in vars(Defaults).items() if isinstance(v, int) and not isinstance(v, bool)}
    out = {}
    for key, value in environ.items():
        if not key.startswith("KIOSK_") or key == "KIOSK_ENV_FILE":
            continue
        name = key if key == "KIOSK_ENV" else key[len("KIOSK_"):]
        if name in ints:
            try:
                out[name] = int(value)
            except ValueError:
                raise RuntimeError(f"{key} must be a whole number, not {value!r}.") from None
        else:
            out[name] = value
    return out


def load_or_create_secret(instance_path):
    """Return the secret key stored in the instance folder, writing a random one (0600) on first run.

    Several processes sharing the instance folder may start at once: the key is written to a private
    temporary file and linked into place, which fails for all but the first, and the others read the winner's.
    So no process ever reads a half-written file, and all of them sign with the same key.
    """
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    tmp = path.with_name(f".secret_key.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(key + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return path.read_text().strip()
    finally:
        tmp.unlink(missing_ok=True)
    return key


def check_secret(secret_key):
    """Refuse to run on a missing, placeholder or short secret."""
    if secret_key is None or secret_key.strip().lower() in PLACEHOLDER_SECRETS or len(secret_key) < MIN_SECRET_LENGTH:
        raise RuntimeError(
            "SECRET_KEY is a placeholder or shorter than 32 characters. "
            "Unset KIOSK_SECRET_KEY to let the server create one in the instance folder, "
            "or set a long random value."
        )


def check_password_iterations(iterations):
    """Refuse a PBKDF2 iteration count below the OWASP minimum."""
    if int(iterations) < MIN_PASSWORD_ITERATIONS:
        raise RuntimeError(f"PASSWORD_ITERATIONS must be at least {MIN_PASSWORD_ITERATIONS}.")
