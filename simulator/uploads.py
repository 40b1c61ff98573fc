"""Uploaded files: bytes kept in memory under ``/contrib_service`` refs, and the resumable upload's
sessions and origin.

The real page uploads cross-origin (``push.clients6.google.com``), in two resumable steps (E7):
``start`` answers an ``x-goog-upload-url``, ``upload, finalize`` sends the bytes there. The
simulator's stand-in for the push origin is its own port on the other loopback name, so the page
meets CORS as it does on Google. Cookies of ``localhost`` are not sent to ``127.0.0.1`` (nor the
reverse): the page names its account there by a sim-only session token (our choice; on Google the
cookies of ``.google.com`` reach the push host).
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass

from simulator.accounts import Account

LOOPBACK_TWINS = {"localhost": "127.0.0.1", "127.0.0.1": "localhost"}


@dataclass(frozen=True)
class Upload:
    ref: str
    name: str
    mime: str
    data: bytes
    owner: str  # Account.public_id of the uploader

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class PendingUpload:
    """A started resumable upload: what ``start`` announced, waiting for its bytes."""

    upload_id: str
    account: Account
    name: str
    mime: str
    size: int | None
    push_id: str | None
    tenant: str | None


class UploadStore:
    def __init__(self) -> None:
        self._uploads: dict[str, Upload] = {}
        self._pending: dict[str, PendingUpload] = {}
        self._counter = itertools.count(1)

    def clear(self) -> None:
        self._uploads.clear()
        self._pending.clear()

    def add(self, name: str, mime: str, data: bytes, owner: str) -> Upload:
        digest = hashlib.sha256(data + f"{next(self._counter)}".encode()).hexdigest()
        ref = f"/contrib_service/ttl_1d/{digest[:10]}i{digest[10:40]}"
        upload = Upload(ref=ref, name=name, mime=mime, data=data, owner=owner)
        self._uploads[ref] = upload
        return upload

    def get(self, ref: str) -> Upload | None:
        return self._uploads.get(ref)

    def start(
        self,
        account: Account,
        name: str,
        mime: str,
        size: int | None,
        push_id: str | None,
        tenant: str | None,
    ) -> PendingUpload:
        upload_id = (
            "AFiumC" + hashlib.sha256(f"{account.public_id}:{next(self._counter)}".encode()).hexdigest()[:40]
        )
        pending = PendingUpload(upload_id, account, name, mime, size, push_id, tenant)
        self._pending[upload_id] = pending
        return pending

    def finish(self, upload_id: str) -> PendingUpload | None:
        return self._pending.pop(upload_id, None)


class UploadSessions:
    """Session token -> account, registered when a signed-in page is rendered. Tokens derive from
    the account, so a page rendered before a reset still uploads after it; kept across resets."""

    def __init__(self) -> None:
        self._accounts: dict[str, Account] = {}

    def open(self, account: Account) -> str:
        token = hashlib.sha256(f"upload-session:{account.key}".encode()).hexdigest()[:32]
        self._accounts[token] = account
        return token

    def account(self, token: str) -> Account | None:
        return self._accounts.get(token)


def upload_origin(scheme: str, host: str, port: int | None) -> str:
    """The push stand-in: the same port on the other loopback name (any other host: itself)."""
    twin = LOOPBACK_TWINS.get(host, host)
    return f"{scheme}://{twin}" + (f":{port}" if port else "")
