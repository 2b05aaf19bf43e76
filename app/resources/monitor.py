"""The Monitor kind: one check of one target, and its per-type settings."""

from __future__ import annotations

import enum
import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from app.resources.common import Duration, Model, NameValue, SecretKeyRef, ValueFrom
from app.resources.services import (
    AmqpSpec,
    GroupSpec,
    GrpcSpec,
    MqttSpec,
    NatsSpec,
    RedisSpec,
    SmtpSpec,
    SqlSpec,
)


class MonitorType(enum.StrEnum):
    HTTP = "http"
    TCP = "tcp"
    DNS = "dns"
    PING = "ping"
    WEBSOCKET = "websocket"
    PUSH = "push"
    STEAM = "steam"
    KUBERNETES = "kubernetes"
    TLS = "tls"
    POSTGRES = "postgres"
    MYSQL = "mysql"
    REDIS = "redis"
    MQTT = "mqtt"
    AMQP = "amqp"
    NATS = "nats"
    GRPC = "grpc"
    SMTP = "smtp"
    GROUP = "group"


_STATUS_RANGE = re.compile(r"^\d{3}(-\d{3})?$")


def _http_url(v: str, schemes: tuple[str, ...]) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(v)
    if parts.scheme not in schemes or not parts.hostname:
        raise ValueError(f"must be an absolute {' or '.join(schemes)} URL with a host")
    return v


class HttpBody(Model):
    json_: Any = Field(None, alias="json")
    text: str | None = None
    form: dict[str, str] | None = None
    formFrom: list[NameValue] | None = Field(
        None, description="form fields whose values may come from Secrets (valueFrom.secretKeyRef)"
    )
    valueFrom: ValueFrom | None = Field(None, description="the whole body, sent as-is, from a Secret key")

    @model_validator(mode="after")
    def _one(self) -> HttpBody:
        form = self.form is not None or self.formFrom is not None
        if (
            sum(x for x in (self.json_ is not None, self.text is not None, form, self.valueFrom is not None))
            != 1
        ):
            raise ValueError("give exactly one of json, text, form (and/or formFrom) or valueFrom")
        return self


class HttpTls(Model):
    verify: bool = True
    clientCertSecretRef: SecretKeyRef | None = Field(
        None, description="PEM certificate (key tls.crt by default in Kubernetes Secrets)"
    )
    clientKeySecretRef: SecretKeyRef | None = None
    caSecretRef: SecretKeyRef | None = None


class Keyword(Model):
    value: str = Field(min_length=1)
    invert: bool = False
    caseSensitive: bool = True


class JsonQuery(Model):
    path: str = Field(min_length=1, description="JSONPath, e.g. $.status")
    operator: Literal["==", "!=", "<", "<=", ">", ">=", "contains"] = "=="
    expected: Any


class CertificateExpiry(Model):
    warnDays: list[int] = Field(default_factory=lambda: [14, 7, 1])

    @field_validator("warnDays")
    @classmethod
    def _positive(cls, v: list[int]) -> list[int]:
        if any(d <= 0 for d in v):
            raise ValueError("warnDays are whole days above 0")
        return sorted(set(v), reverse=True)


class BasicAuth(Model):
    username: str
    passwordSecretRef: SecretKeyRef


class HttpSpec(Model):
    url: str
    method: Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] = "GET"
    headers: list[NameValue] = Field(default_factory=list)
    body: HttpBody | None = None
    acceptedStatusCodes: list[
        Annotated[str, BeforeValidator(lambda v: str(v) if isinstance(v, int) else v)]
    ] = Field(default_factory=lambda: ["200-299"], description='codes or ranges, e.g. ["200-299", 301]')
    followRedirects: bool = True
    maxRedirects: int = Field(10, ge=0, le=50)
    tls: HttpTls = Field(default_factory=HttpTls)
    basicAuth: BasicAuth | None = None
    bearerTokenSecretRef: SecretKeyRef | None = None
    proxy: str | None = None
    keyword: Keyword | None = None
    jsonQuery: JsonQuery | None = None
    maxBodyBytes: int = Field(1_048_576, ge=0, le=64 * 1_048_576)
    certificateExpiry: CertificateExpiry | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        return _http_url(v, ("http", "https"))

    @field_validator("acceptedStatusCodes")
    @classmethod
    def _codes(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("list at least one status code or range, e.g. 200-299")
        for item in v:
            if not _STATUS_RANGE.match(str(item)):
                raise ValueError(f"{item!r} is not a status code or range like 200-299")
            lo, _, hi = str(item).partition("-")
            if hi and int(hi) < int(lo):
                raise ValueError(f"{item!r} is a range from high to low; write {hi}-{lo}")
        return [str(i) for i in v]

    def accepts(self, status: int) -> bool:
        for item in self.acceptedStatusCodes:
            lo, _, hi = item.partition("-")
            if int(lo) <= status <= int(hi or lo):
                return True
        return False


class TcpSpec(Model):
    host: str = Field(min_length=1)
    port: int = Field(ge=1, le=65535)
    tls: bool = False
    tlsVerify: bool = True
    caSecretRef: SecretKeyRef | None = Field(None, description="PEM CA bundle trusted besides the system's")
    send: str | None = None
    expect: str | None = None


class DnsSpec(Model):
    name: str = Field(min_length=1)
    recordType: Literal["A", "AAAA", "CNAME", "MX", "TXT", "NS", "SRV", "CAA", "SOA", "PTR"] = "A"
    server: str | None = Field(None, description="resolver IP; default: the system resolver")
    port: int = Field(53, ge=1, le=65535)
    expected: list[str] = Field(default_factory=list)
    match: Literal["any", "all"] = "any"
    expectedRcode: str = "NOERROR"
    transport: Literal["udp", "tcp"] = "udp"


class PingSpec(Model):
    host: str = Field(min_length=1)
    count: int = Field(3, ge=1, le=100)
    packetSize: int = Field(56, ge=1, le=65000)
    maxLossPercent: float = Field(0, ge=0, le=100)


class WebsocketSpec(Model):
    url: str
    headers: list[NameValue] = Field(default_factory=list)
    send: str | None = None
    expect: str | None = None
    tls: HttpTls = Field(default_factory=HttpTls)

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        return _http_url(v, ("ws", "wss"))


class PushSpec(Model):
    tokenSecretRef: SecretKeyRef | None = Field(None, description="push token; absent = derived, in status")
    gracePeriod: Duration = 0.0


class SteamSpec(Model):
    host: str = Field(min_length=1)
    port: int = Field(27015, ge=1, le=65535)


class KubernetesTargetSpec(Model):
    kind: Literal["Deployment", "StatefulSet", "DaemonSet", "Pod", "Endpoints"]
    namespace: str | None = None
    name: str | None = None
    selector: dict[str, str] | None = None
    minReady: int = Field(1, ge=0)

    @model_validator(mode="after")
    def _target(self) -> KubernetesTargetSpec:
        if (self.name is None) == (self.selector is None):
            raise ValueError("give exactly one of name or selector")
        return self


class TlsSpec(Model):
    host: str = Field(min_length=1)
    port: int = Field(443, ge=1, le=65535)
    serverName: str | None = None
    warnDays: list[int] = Field(default_factory=lambda: [14, 7, 1])
    verify: bool = True
    caSecretRef: SecretKeyRef | None = Field(None, description="PEM CA bundle trusted besides the system's")


TYPE_FIELDS: dict[MonitorType, str] = {t: t.value for t in MonitorType}


class MonitorSpec(Model):
    type: MonitorType
    enabled: bool = True
    interval: Duration = 60.0
    timeout: Duration = 10.0
    retries: int = Field(0, ge=0, le=100)
    retryInterval: Duration | None = None
    upsideDown: bool = False
    description: str = ""
    http: HttpSpec | None = None
    tcp: TcpSpec | None = None
    dns: DnsSpec | None = None
    ping: PingSpec | None = None
    websocket: WebsocketSpec | None = None
    push: PushSpec | None = None
    steam: SteamSpec | None = None
    kubernetes: KubernetesTargetSpec | None = None
    tls: TlsSpec | None = None
    postgres: SqlSpec | None = None
    mysql: SqlSpec | None = None
    redis: RedisSpec | None = None
    mqtt: MqttSpec | None = None
    amqp: AmqpSpec | None = None
    nats: NatsSpec | None = None
    grpc: GrpcSpec | None = None
    smtp: SmtpSpec | None = None
    group: GroupSpec | None = None

    @field_validator("interval")
    @classmethod
    def _interval(cls, v: float) -> float:
        if v < 1 or v > 7 * 86400:
            raise ValueError("must be between 1s and 7d")
        return v

    @field_validator("timeout")
    @classmethod
    def _timeout(cls, v: float) -> float:
        if v <= 0 or v > 300:
            raise ValueError("must be above 0 and at most 5m")
        return v

    @field_validator("retryInterval")
    @classmethod
    def _retry_interval(cls, v: float | None) -> float | None:
        if v is not None and (v < 1 or v > 86400):
            raise ValueError("must be between 1s and 1d")
        return v

    @model_validator(mode="before")
    @classmethod
    def _push_default(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("type") == "push" and data.get("push") is None:
            data = {**data, "push": {}}
        return data

    @model_validator(mode="after")
    def _settings_for_type(self) -> MonitorSpec:
        own = TYPE_FIELDS[self.type]
        if getattr(self, own) is None:
            raise ValueError(f"type {self.type.value} needs the field {own}")
        others = [f for t, f in TYPE_FIELDS.items() if t != self.type and getattr(self, f) is not None]
        if others:
            raise ValueError(f"type {self.type.value} takes no {', '.join(others)} settings")
        return self

    @property
    def settings(self) -> Any:
        """The sub-object of this monitor's type (e.g. the HttpSpec of an http monitor)."""
        return getattr(self, TYPE_FIELDS[self.type])

    @property
    def effective_retry_interval(self) -> float:
        return self.retryInterval if self.retryInterval is not None else self.interval

    def target(self) -> str:
        """A one-line description of what is checked, for lists and printer columns."""
        s = self.settings
        match self.type:
            case MonitorType.HTTP | MonitorType.WEBSOCKET:
                return str(s.url)
            case MonitorType.TCP | MonitorType.STEAM | MonitorType.TLS | MonitorType.GRPC | MonitorType.SMTP:
                return f"{s.host}:{s.port}"
            case MonitorType.POSTGRES | MonitorType.MYSQL:
                return f"{self.type.value}://{s.host}:{s.port or (5432 if self.type == 'postgres' else 3306)}"
            case MonitorType.REDIS | MonitorType.MQTT | MonitorType.AMQP | MonitorType.NATS:
                return f"{self.type.value}://{s.host}:{s.port}"
            case MonitorType.GROUP:
                return "group " + ",".join(f"{k}={v}" for k, v in s.selector.matchLabels.items())
            case MonitorType.DNS:
                return f"{s.name} {s.recordType}"
            case MonitorType.PING:
                return str(s.host)
            case MonitorType.PUSH:
                return "push"
            case MonitorType.KUBERNETES:
                what = s.name or ",".join(f"{k}={v}" for k, v in (s.selector or {}).items())
                return f"{s.kind}/{what}"
        return ""
