"""Uploaded files (the content-push stand-in): bytes kept in memory under ``/contrib_service`` refs."""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass


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


class UploadStore:
    def __init__(self) -> None:
        self._uploads: dict[str, Upload] = {}
        self._counter = itertools.count(1)

    def clear(self) -> None:
        self._uploads.clear()

    def add(self, name: str, mime: str, data: bytes, owner: str) -> Upload:
        digest = hashlib.sha256(data + f"{next(self._counter)}".encode()).hexdigest()
        ref = f"/contrib_service/ttl_1d/{digest[:10]}i{digest[10:40]}"
        upload = Upload(ref=ref, name=name, mime=mime, data=data, owner=owner)
        self._uploads[ref] = upload
        return upload

    def get(self, ref: str) -> Upload | None:
        return self._uploads.get(ref)
