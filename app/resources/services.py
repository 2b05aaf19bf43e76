"""Settings of the monitor types that speak a service's own protocol: databases, brokers, gRPC, mail.

They share one shape: a server (host, port, optional TLS with a private CA), credentials
from Secrets, and an optional assertion on what the server answered. `group` is here too:
its members are other monitors, picked by label selector.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from app.resources.common import LabelSelector, Model, SecretKeyRef

Operator = Literal["==", "!=", "<", "<=", ">", ">=", "contains"]


class ValueAssertion(Model):
    """`<answer> <operator> <value>`; numbers compare as numbers, anything else as text."""

    operator: Operator = "=="
    value: str = Field(description="the expected value, e.g. '1', 'master', '100'")


class Server(Model):
    host: str = Field(min_length=1)
    username: str | None = None
    passwordSecretRef: SecretKeyRef | None = None
    tls: bool = False
    tlsVerify: bool = True
    caSecretRef: SecretKeyRef | None = Field(None, description="PEM CA bundle trusted besides the system's")


class SqlSpec(Server):
    """postgres and mysql: connect, authenticate, run one query, assert on its rows."""

    port: int | None = Field(None, ge=1, le=65535, description="default 5432 (postgres) or 3306 (mysql)")
    database: str | None = None
    query: str = Field("SELECT 1", min_length=1)
    minRows: int | None = Field(None, ge=0, description="fail with fewer rows than this")
    maxRows: int | None = Field(None, ge=0, description="fail with more rows than this")
    result: ValueAssertion | None = Field(None, description="on the first column of the first row")


class RedisSpec(Server):
    port: int = Field(6379, ge=1, le=65535)
    db: int = Field(0, ge=0)
    command: list[str] = Field(
        default_factory=lambda: ["PING"], min_length=1, description='e.g. ["GET", "feature:flag"]'
    )
    infoField: str | None = Field(
        None, description="instead of command: a field of INFO, e.g. role or connected_clients"
    )
    result: ValueAssertion | None = Field(None, description="on the command's reply or the INFO field")


class MqttSpec(Server):
    port: int = Field(1883, ge=1, le=65535)
    topic: str = Field("kubekuma/probe", min_length=1)
    mode: Literal["roundTrip", "retained"] = Field(
        "roundTrip", description="roundTrip: publish and receive our own message; retained: read the topic"
    )
    qos: int = Field(0, ge=0, le=2)
    result: ValueAssertion | None = Field(None, description="retained mode: on the retained payload")
    clientId: str | None = None


class AmqpSpec(Server):
    port: int = Field(5672, ge=1, le=65535)
    vhost: str = "/"
    queue: str | None = Field(None, description="a queue that must exist")
    maxMessages: int | None = Field(None, ge=0, description="fail when the queue holds more messages")
    minConsumers: int | None = Field(None, ge=0, description="fail when the queue has fewer consumers")

    @model_validator(mode="after")
    def _queue(self) -> AmqpSpec:
        if self.queue is None and (self.maxMessages is not None or self.minConsumers is not None):
            raise ValueError("maxMessages and minConsumers need a queue")
        return self


class NatsSpec(Server):
    port: int = Field(4222, ge=1, le=65535)
    tokenSecretRef: SecretKeyRef | None = None
    subject: str = Field("kubekuma.probe", min_length=1, description="request/reply round trip subject")
    stream: str | None = Field(None, description="a JetStream stream that must exist")


class GrpcSpec(Model):
    host: str = Field(min_length=1)
    port: int = Field(ge=1, le=65535)
    service: str = Field("", description="grpc.health.v1 service name; empty = the whole server")
    tls: bool = Field(
        False, description="TLS, always verified (gRPC has no unverified mode): trust a private CA"
    )
    serverName: str | None = Field(None, description="name to verify the certificate against; default: host")
    caSecretRef: SecretKeyRef | None = Field(None, description="PEM CA bundle trusted besides the system's")


class SmtpSpec(Model):
    host: str = Field(min_length=1)
    port: int = Field(25, ge=1, le=65535)
    security: Literal["none", "starttls", "tls"] = Field(
        "none", description="starttls: upgrade after EHLO (587/25); tls: implicit TLS (465)"
    )
    tlsVerify: bool = True
    caSecretRef: SecretKeyRef | None = Field(None, description="PEM CA bundle trusted besides the system's")
    expectBanner: str | None = Field(None, description="text the 220 greeting must contain")
    heloName: str = "kubekuma.local"
    warnDays: list[int] = Field(default_factory=lambda: [14, 7, 1])


class GroupSpec(Model):
    """A monitor whose state follows other monitors: members by label selector, nested groups allowed."""

    selector: LabelSelector = Field(description="members: monitors in this namespace with these labels")
    rule: Literal["allUp", "anyUp", "percent"] = "allUp"
    minPercent: float = Field(100, gt=0, le=100, description="rule percent: share of members UP")
    namespaces: list[str] = Field(
        default_factory=list, description="look in these namespaces too ('*' for all); default: own"
    )

    @model_validator(mode="after")
    def _selector(self) -> GroupSpec:
        if not self.selector.matchLabels and not self.selector.matchExpressions:
            raise ValueError(
                "selector: give matchLabels or matchExpressions (an empty selector is everything)"
            )
        return self
