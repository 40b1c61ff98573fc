"""Settings of the replicas (``GatewaySettings.cluster``): who this replica is, how long its
ownership of an account lasts without renewal, and how the replicas reach each other to forward a
request (``internal_url``, ``secret``: ``service.cluster.forward``). They apply with
``state.backend: redis`` only (a SQLite gateway is one process and owns every account); set with a
SQLite backend they are refused, so they are never silently ignored."""

from __future__ import annotations

import secrets
import socket

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, SecretStr, model_validator

__all__ = ["ClusterSettings", "default_replica_id"]


def default_replica_id() -> str:
    """The host's name and a short random suffix: two gateways on one host (or two containers
    whose hostnames repeat after a restart) never share an id."""
    host = socket.gethostname().split(".")[0] or "replica"
    return f"{host}-{secrets.token_hex(3)}"


class ClusterSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    replica_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="This replica's name among the replicas of one Redis (`state.backend: redis`): the "
        "owner of the accounts it drives, shown in the admin API's account list. Unset: the host name "
        "and a random suffix, new at each start. Two live replicas must never share it.",
    )
    lease_ttl: float = Field(
        default=15.0,
        gt=0,
        description="Seconds an account's ownership lease lasts without renewal (`state.backend: redis`): "
        "a replica that dies loses its accounts this long after its last renewal, and live replicas "
        "adopt them. A replica that stops hands its accounts back at once.",
    )
    renew_interval: float | None = Field(
        default=None,
        gt=0,
        description="Seconds between two rounds of the ownership loop (renew the leases, count the live "
        "replicas, take or hand back accounts). Default: a third of `lease_ttl`; must be below it.",
    )

    internal_url: AnyHttpUrl | None = Field(
        default=None,
        description="The URL the other replicas use to reach this one (`http://gateway-0.gateway:8000`, "
        "say): published with its heartbeat, so that a request whose conversation, job or model lives "
        "here is forwarded here from any replica. Needs `cluster.secret`. Unset: this replica is never "
        "forwarded to (its conversations continued elsewhere fold into a new chat, as when an account is "
        "gone).",
    )
    secret: SecretStr | None = Field(
        default=None,
        min_length=16,
        description="The secret every replica of one Redis shares to sign the requests they forward to "
        "each other (an HMAC of the method, path, time and body; valid 30 s). Unset: this replica neither "
        "forwards nor accepts forwarded requests. Never logged.",
    )

    @model_validator(mode="after")
    def _url_needs_secret(self) -> ClusterSettings:
        if self.internal_url is not None and self.secret is None:
            raise ValueError(
                "cluster.internal_url needs cluster.secret: no replica could sign a request forwarded to it"
            )
        return self

    @model_validator(mode="after")
    def _renew_before_expiry(self) -> ClusterSettings:
        if self.renew_interval is not None and self.renew_interval >= self.lease_ttl:
            raise ValueError(
                f"cluster.renew_interval ({self.renew_interval:g} s) must be below cluster.lease_ttl "
                f"({self.lease_ttl:g} s): leases would lapse between renewals"
            )
        return self

    def replica(self) -> str:
        """The replica id to use: the configured one, or a new default (call once per start)."""
        return self.replica_id if self.replica_id is not None else default_replica_id()

    @property
    def interval(self) -> float:
        """The ownership loop's period."""
        return self.renew_interval if self.renew_interval is not None else self.lease_ttl / 3
