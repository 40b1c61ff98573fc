"""``AdminPool``: the ``ScriptedPool`` plus the pool's account administration (add, remove, check,
pause, resume, screenshot), for the admin tests where the browser is not the point. Additions are
validated by the real ``AccountSpec.parse_cookies`` and named as the real pool names them."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field, replace

from PIL import Image

from browser import AccountInfo, AccountSpec, UnknownAccount
from tests.service.scripted_pool import ScriptedPool, account


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (20, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


@dataclass
class AdminPool(ScriptedPool):
    added: list[AccountSpec] = field(default_factory=list)
    removed: list[tuple[str, bool]] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    async def add_account(self, spec: AccountSpec) -> AccountInfo:
        cookies = spec.parse_cookies()
        psid = next(cookie.value for cookie in cookies if cookie.name == "__Secure-1PSID")
        account_id = spec.name or f"acct-{hashlib.sha256(psid.encode()).hexdigest()[:12]}"
        tier = "free" if psid.startswith("free-") else "paid"
        info = replace(account(account_id, tier=tier), name=spec.name or account_id)
        self.account_list = [a for a in self.account_list if a.id != account_id] + [info]
        self.added.append(spec)
        return info

    async def remove_account(self, account_id: str, *, forget: bool = False) -> None:
        self._find(account_id)
        self.account_list = [a for a in self.account_list if a.id != account_id]
        self.removed.append((account_id, forget))

    async def check_account(self, account_id: str) -> AccountInfo:
        info = self._find(account_id)
        self.checked.append(account_id)
        return info

    async def pause_account(self, account_id: str) -> AccountInfo:
        return self._set(account_id, paused=True)

    async def resume_account(self, account_id: str) -> AccountInfo:
        return self._set(account_id, paused=False)

    async def screenshot(self, account_id: str) -> bytes:
        self._find(account_id)
        return png()

    def _find(self, account_id: str) -> AccountInfo:
        for info in self.account_list:
            if info.id == account_id:
                return info
        raise UnknownAccount(f"no account {account_id!r}")

    def _set(self, account_id: str, *, paused: bool) -> AccountInfo:
        info = replace(self._find(account_id), paused=paused)
        self.account_list = [info if a.id == account_id else a for a in self.account_list]
        return info
