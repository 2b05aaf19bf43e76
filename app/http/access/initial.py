"""The first-start admin: with no LocalUser and no OIDC, one `admin` login so the dashboard is never open.

As Argo CD does with its initial admin secret: the password is generated once and kept in a
file with mode 0600 beside the SQLite database (folder mode), or in the Secret
`kubekuma-initial-admin` (cluster mode). It works only while no LocalUser exists and OIDC
is not configured; create a LocalUser and it stops working at once.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

from app.http.access.directory import User
from app.http.access.hashing import digest, hash_password

USERNAME = "admin"
SECRET_NAME = "kubekuma-initial-admin"


def admin_user(password: str) -> User:
    h = hash_password(password)
    return User(USERNAME, "admin", h, None, digest("initial\x1f" + h)[:32], "initial")


def file_password(path: Path) -> tuple[str, bool]:
    """The password in `path`, creating the file (0600, never overwritten) when it is missing."""
    try:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("password:"):
                return line.split(":", 1)[1].strip(), False
    except FileNotFoundError:
        pass
    password = secrets.token_urlsafe(18)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(f"# KubeKuma initial admin; works until a LocalUser exists or OIDC is set up.\n"
                f"username: {USERNAME}\npassword: {password}\n")  # fmt: skip
    return password, True


def secret_password(read: Callable[[], str | None], write: Callable[[str], object]) -> tuple[str, bool]:
    """The same, kept in a Kubernetes Secret through the given read and write."""
    found = read()
    if found:
        return found, False
    password = secrets.token_urlsafe(18)
    write(password)
    return password, True


def default_file(database_url: str, manifests: str | None) -> Path:
    """Beside the SQLite database; with PostgreSQL beside the manifests folder (or here)."""
    if database_url.startswith("sqlite:///"):
        return Path(database_url.removeprefix("sqlite:///")).resolve().parent / "kubekuma-initial-admin"
    base = Path(manifests).resolve().parent if manifests else Path.cwd()
    return base / "kubekuma-initial-admin"
