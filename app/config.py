"""Process settings, read once from the environment and validated at start.

Everything that differs between the embedded default and the scaled-out shape is here:
the database URL, the Redis URL (absent means an in-memory broker with an in-process
worker), the manifests folder and the listen address.
"""

from __future__ import annotations

import enum
import json
import logging
import re
import sys
from typing import Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MASK = "***"
# scheme://userinfo@ : the userinfo (user, password, or a token used as the user) is a credential.
URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]{0,30}://)[^\s/?#@\"'<>]+@")
# user:password@host without a scheme, as in a URL's netloc quoted in a message.
_NETLOC_USERINFO = re.compile(r"(?<![\w.%+-])[\w.%+-]+:[^\s/?#@\"'<>]+@(?=[\w\[])")


def redact(text: str) -> str:
    """`text` with the userinfo of every URL in it masked (app.resources.credentials builds on this)."""
    if "@" not in text:
        return text
    return _NETLOC_USERINFO.sub(f"{MASK}@", URL_USERINFO.sub(rf"\1{MASK}@", text))


class RedactingFilter(logging.Filter):
    """On the log handler: no line, traceback included, carries a URL's user:password."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg, record.args = redact(message), None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class LogFormat(enum.StrEnum):
    TEXT = "text"
    JSON = "json"


class ConfigError(Exception):
    """A setting is wrong; the message names the environment variable."""


def names_list(text: str) -> frozenset[str]:
    """A comma-separated list of names, as KUBEKUMA_ALLOWED_ENV is written."""
    return frozenset(n.strip() for n in text.split(",") if n.strip())


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KUBEKUMA_", extra="ignore", frozen=True)

    database_url: str = Field(
        "sqlite:///kubekuma.db",
        description="sqlite:///PATH (default) or postgresql://user@host:port/db",
    )
    redis_url: str | None = Field(None, description="redis://host:port/db; unset = in-memory broker")
    redis_namespace: str = Field(
        "kubekuma",
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="key prefix in Redis, so installations can share one",
    )
    manifests: str | None = Field(None, description="folder of YAML manifests (folder mode)")
    listen: str = Field("127.0.0.1:8080", description="HOST:PORT the web role listens on")
    metrics_listen: str | None = Field(
        None,
        description="HOST:PORT where worker, scheduler and controller serve /metrics; unset = not served "
        "(the web role serves /metrics on its own listen address)",
    )
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING or ERROR")
    log_format: LogFormat = Field(LogFormat.TEXT, description="text or json")
    worker_threads: int = Field(8, ge=1, le=512, description="check threads per worker process")
    check_pool_threads: int = Field(
        32,
        ge=1,
        le=1024,
        description="threads per worker process that run the checks of batches (one pool, shared by "
        "every batch the process handles)",
    )
    scheduler_slot_ms: int = Field(
        200, ge=50, le=1000, description="the scheduler enqueues the monitors due in each slot this long"
    )
    scheduler_batch_max: int = Field(150, ge=1, le=1000, description="most checks in one check_batch message")
    instance_id: str | None = Field(None, description="identity in leases; default host:pid")
    namespace: str = Field("default", description="namespace for manifests that name none")
    allowed_env: str = Field(
        "",
        description="folder mode: comma-separated environment variables that secretKeyRef.env may read",
    )
    base_url: str | None = Field(
        None, description="public URL of the web role (https://status.example.com), for links in feeds"
    )

    @field_validator("database_url")
    @classmethod
    def _db_url(cls, v: str) -> str:
        if not (v.startswith("sqlite://") or v.startswith(("postgres://", "postgresql://"))):
            raise ValueError("must start with sqlite:// or postgresql://")
        return v

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, v: str | None) -> str | None:
        if v in (None, ""):
            return None
        if not v.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return v

    @field_validator("metrics_listen")
    @classmethod
    def _metrics_listen(cls, v: str | None) -> str | None:
        return None if v in (None, "") else cls._listen(v)

    @field_validator("listen")
    @classmethod
    def _listen(cls, v: str) -> str:
        host, sep, port = v.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
            raise ValueError("must be HOST:PORT, e.g. 127.0.0.1:8080")
        return v

    @field_validator("log_level")
    @classmethod
    def _level(cls, v: str) -> str:
        v = v.upper()
        if v not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return v

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, v: str | None) -> str | None:
        if not v:
            return None
        if not v.startswith(("http://", "https://")) or any(c in v for c in " \"'<>?#"):
            raise ValueError(
                "must be an http:// or https:// URL without query, e.g. https://status.example.com"
            )
        return v.rstrip("/")

    @property
    def allowed_env_names(self) -> frozenset[str]:
        return names_list(self.allowed_env)

    @property
    def listen_host(self) -> str:
        return self.listen.rpartition(":")[0].strip("[]")

    @property
    def listen_port(self) -> int:
        return int(self.listen.rpartition(":")[2])


def load_settings(**overrides: Any) -> Settings:
    """Read the environment (plus explicit overrides); raise ConfigError naming the variable."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = "KUBEKUMA_" + str(err["loc"][0]).upper() if err["loc"] else "KUBEKUMA_?"
            lines.append(f"{name}: {err['msg'].removeprefix('Value error, ')}")
        raise ConfigError("; ".join(lines)) from None


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_text:
            out["exc"] = record.exc_text
        elif record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out)


def configure_logging(settings: Settings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if settings.log_format is LogFormat.JSON:
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    for noisy in ("urllib3", "pony.orm", "waitress.queue", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
