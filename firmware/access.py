"""The access code for changes: generated once, kept on disk only as a salted hash.

Why hashed: the data dir may be backed up or copied off the SD card; a plain code there would
let whoever reads the copy change the owner's history. The plain code exists only in memory at
the moment it is made, is printed once (as a link with the code in the URL fragment, which a
browser never sends to the server), and `stretchstep access-code --reset` makes a new one when
it is lost. The web process re-reads the hash when the file changes, so a reset needs no
restart.

Why 8 digits: against a guesser held to a few tries an hour by the per-client backoff
(webui.auth), 10^8 codes take centuries; 6 digits took ~17 days at the old global limit.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from pathlib import Path

from firmware.files import private_dir, write_atomic

MIN_LENGTH = 8
DIGITS = 8
FILE_NAME = "access_code"
SCHEME = "scrypt"
# ~8 MB and a few tens of ms per check on a desktop, well under a second on a Pi Zero 2; only
# wrong guesses pay it (a right code is remembered in memory, see AccessCode.check).
N, R, P = 2**13, 8, 1


class AccessError(ValueError):
    """The stored access code cannot be read or written; the message says what to do."""


def new_code(digits: int = DIGITS) -> str:
    return f"{secrets.randbelow(10**digits):0{digits}d}"


def hash_code(code: str, *, salt: bytes | None = None, n: int = N, r: int = R, p: int = P) -> str:
    """`scrypt$N$R$P$SALT$HASH` (base64): everything needed to check a code later."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(code.encode("utf-8", "surrogatepass"), salt=salt, n=n, r=r, p=p,
                            dklen=32, maxmem=64 * 1024 * 1024)
    b64 = base64.b64encode
    return f"{SCHEME}${n}${r}${p}${b64(salt).decode()}${b64(digest).decode()}"


def verify(code: str, verifier: str) -> bool:
    """True when `code` hashes to `verifier`; compared in constant time."""
    try:
        scheme, n, r, p, salt, digest = verifier.split("$")
        if scheme != SCHEME:
            return False
        expected = base64.b64decode(digest, validate=True)
        got = hash_code(code, salt=base64.b64decode(salt, validate=True), n=int(n), r=int(r), p=int(p))
    except ValueError:
        return False
    return hmac.compare_digest(base64.b64decode(got.rsplit("$", 1)[1]), expected)


def is_verifier(text: str) -> bool:
    return text.startswith(SCHEME + "$") and text.count("$") == 5


def link(host: str, port: int, code: str | None = None) -> str:
    """The page's address; with the code in the fragment so a phone opens it already let in."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/" + (f"#code={code}" if code else "")


class AccessCode:
    """What the web checks codes against: a hash (from the config's code or the data dir's file).

    `fresh` is the plain code when it was made (or migrated) just now: the one moment it can be
    shown. `warning` says when the code is weaker than new ones. A right code is remembered as
    a keyed digest in memory, so scripts sending it on every request do not pay scrypt each time.
    """

    def __init__(self, verifier: str = "", *, path: Path | None = None, fresh: str | None = None,
                 warning: str | None = None, source: str = "data dir") -> None:
        self.path = path
        self.fresh = fresh
        self.warning = warning
        self.source = source
        self._verifier = verifier
        self._mtime = _mtime(path) if path is not None else None
        self._key = secrets.token_bytes(32)
        self._known_good: bytes | None = None
        self._lock = threading.Lock()

    @classmethod
    def plain(cls, code: str) -> AccessCode:
        """From a code given in plain (config, tests): hashed here, never kept."""
        return cls(hash_code(code) if code else "", source="config")

    @property
    def enabled(self) -> bool:
        return bool(self.verifier())

    def verifier(self) -> str:
        """The current hash; re-read when the file changed (after `access-code --reset`)."""
        if self.path is None:
            return self._verifier
        mtime = _mtime(self.path)
        if mtime != self._mtime:
            with self._lock:
                try:
                    text = self.path.read_text(encoding="utf-8").strip()
                except (OSError, UnicodeDecodeError):
                    text = ""
                if is_verifier(text) and text != self._verifier:
                    self._verifier, self._known_good = text, None
                self._mtime = mtime
        return self._verifier

    def adopt(self, verifier: str) -> None:
        """Check against `verifier` from now on (this process just wrote it to the file)."""
        with self._lock:
            self._verifier, self._known_good = verifier, None
            self._mtime = _mtime(self.path) if self.path is not None else None

    def check(self, given: str) -> bool:
        verifier = self.verifier()
        if not verifier or not given:
            return False
        tag = hmac.new(self._key, given.encode("utf-8", "surrogatepass"), "sha256").digest()
        known = self._known_good
        if known is not None and hmac.compare_digest(tag, known):
            return True
        if verify(given, verifier):
            self._known_good = tag
            return True
        return False


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None


def _read(path: Path) -> str | None:
    """The file's content, None when there is none; AccessError when it cannot be used."""
    if path.is_dir():
        raise AccessError(f"{path} is a folder, not the access code file; remove it and start again "
                          "(a new code is made)")
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except UnicodeDecodeError:
        raise AccessError(f"{path} is not an access code file (not text); run `stretchstep "
                          "access-code --reset` to make a new code") from None
    except OSError as exc:
        raise AccessError(f"cannot read the access code in {path}: {exc.strerror}") from None


def _save(path: Path, verifier: str) -> None:
    try:
        private_dir(path.parent)
        write_atomic(path, verifier + "\n")
    except OSError as exc:
        raise AccessError(f"cannot save the access code in {path}: {exc.strerror}; is the data dir "
                          "writable?") from None


def ensure_access_code(data_dir: Path, configured: str) -> AccessCode:
    """The configured code, else the data dir's (made once if there is none).

    A plain code left there by an older stretchstep keeps working: it is hashed in place and
    shown once more, with a warning if it is shorter than new ones."""
    if configured:
        return AccessCode.plain(configured)
    path = Path(data_dir) / FILE_NAME
    text = _read(path)
    if text and is_verifier(text):
        return AccessCode(text, path=path)
    if text and "$" not in text:
        _save(path, hash_code(text))
        warning = None
        if len(text) < MIN_LENGTH:
            warning = (f"the access code has only {len(text)} characters; run `stretchstep "
                       f"access-code --reset` for a {DIGITS}-digit one")
        return AccessCode(path.read_text(encoding="utf-8").strip(), path=path, fresh=text, warning=warning)
    return reset_access_code(data_dir)


def load_access_code(data_dir: Path, configured: str) -> AccessCode:
    """What another process (the web) checks against: reads, never makes or rewrites a code."""
    if configured:
        return AccessCode.plain(configured)
    path = Path(data_dir) / FILE_NAME
    text = _read(path) or ""
    return AccessCode(text if is_verifier(text) else "", path=path)


def reset_access_code(data_dir: Path) -> AccessCode:
    """A new code: its hash replaces the old one on disk; the plain code is returned once."""
    path = Path(data_dir) / FILE_NAME
    code, verifier = _new_code_saved(path)
    return AccessCode(verifier, path=path, fresh=code)


def replace_access_code(access: AccessCode) -> str:
    """A new code for a running device (the page's Settings): the data dir's hash is replaced and
    `access` checks against it at once; the plain code is returned, to be shown once. A code
    from the config file stays the config's to change (AccessError says so)."""
    if access.path is None:
        raise AccessError("this device's code is set in its config file ([web] access_code); "
                          "change it there")
    code, verifier = _new_code_saved(access.path)
    access.adopt(verifier)
    return code


def _new_code_saved(path: Path) -> tuple[str, str]:
    if path.is_dir():
        _read(path)  # raises the clear message
    code = new_code()
    verifier = hash_code(code)
    _save(path, verifier)
    return code, verifier


def describe(access: AccessCode) -> str:
    """One line for the terminal about the code (never the code itself unless it is fresh)."""
    if access.fresh:
        return f"access code for changes: {access.fresh} (shown this once; stored hashed)"
    if access.source == "config":
        return "access code for changes: the one in your config file ([web] access_code)"
    if not access.enabled:
        return ("no access code yet: `stretchstep run` makes one at its first start (or run "
                "`stretchstep access-code --reset`)")
    return ("access code for changes: set (lost it? run `stretchstep access-code --reset` on "
            "this device)")


__all__ = ["AccessCode", "AccessError", "describe", "ensure_access_code", "hash_code", "link",
           "load_access_code", "new_code", "replace_access_code", "reset_access_code", "verify"]
