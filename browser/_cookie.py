"""One cookie as we keep it, independent of the browser that will receive it or the file it came
from (``browser._cookie_formats`` reads files, ``browser._cookies`` hands cookies to a context)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = ["PSID", "PSIDTS", "Cookie", "SameSite"]

PSID = "__Secure-1PSID"
PSIDTS = "__Secure-1PSIDTS"

SameSite = Literal["Lax", "None", "Strict"]


@dataclass(frozen=True)
class Cookie:
    """A cookie as we keep it, independent of the browser that will receive it."""

    name: str
    value: str = field(repr=False)  # a session credential: never in logs or tracebacks
    domain: str = ".google.com"
    path: str = "/"
    expires: float = -1
    http_only: bool = False
    secure: bool = True
    same_site: SameSite = "None"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def to_export(self) -> dict[str, Any]:
        """The cookie as a browser extension exports it (Cookie-Editor's JSON), which every reader
        of ``AccountSpec.cookies`` takes."""
        export: dict[str, Any] = {
            "name": self.name,
            "value": self.value,
            "domain": self.domain,
            "hostOnly": not self.domain.startswith("."),
            "path": self.path,
            "httpOnly": self.http_only,
            "secure": self.secure,
            "sameSite": {"None": "no_restriction", "Lax": "lax", "Strict": "strict"}[self.same_site],
            "session": self.expires <= 0,
        }
        if self.expires > 0:
            export["expirationDate"] = self.expires
        return export

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Cookie:
        return cls(**data)
