"""Delivery of generated media by URL (interface I5): signed local links or an S3-compatible bucket."""

from __future__ import annotations

from service.media.config import MediaSettings, S3Settings
from service.media.delivery import MEDIA_ROUTE, MediaDelivery

__all__ = ["MEDIA_ROUTE", "MediaDelivery", "MediaSettings", "S3Settings"]
