"""Video jobs in Redis (``service.videos.store`` on SQLite is the other backend; the confirmed
researches are in ``service.stores.redis_researches``). A video job's row is shared;
its finished files stay in this replica's data directory (media across replicas: issue 20 item 4).

Videos, under ``gateway:videos:``: ``v:<id>`` (hash, each field a JSON value), ``seq`` (the counter
that orders them), ``by_owner:<owner>`` (sorted set by seq), ``running`` (the ids queued or in
progress) and ``runs`` (which of them a live replica runs: ``service.stores.redis_runs``)."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import asdict, fields, replace
from pathlib import Path
from typing import Any

import redis

from service.stores.redis_base import RedisStore, text_map, texts
from service.stores.redis_runs import Runs
from service.videos.store import VideoFiles, VideoRecord

__all__ = ["RedisVideoStore"]

_NAMES = [item.name for item in fields(VideoRecord)]
_RUNNING = ("queued", "in_progress")


def _on(record: VideoRecord, accounts: Collection[str] | None) -> bool:
    return accounts is None or record.account_id is None or record.account_id in accounts


class RedisVideoStore(VideoFiles, RedisStore):
    store = "videos"
    _what = "the video store"

    def __init__(self, client: redis.Redis, data_dir: Path) -> None:
        RedisStore.__init__(self, client)
        VideoFiles.__init__(self, data_dir)
        self.runs = Runs(client, self.key("runs"))

    def open(self) -> None:
        super().open()
        self.runs.open()

    def close(self) -> None:
        self.runs.close()

    def insert(self, record: VideoRecord, *, keep_seq: bool = False) -> VideoRecord:
        """Store a new job (``keep_seq``: with its own seq, for the migration)."""
        if keep_seq:
            self.redis.eval(  # the counter never goes back below a migrated seq
                "if tonumber(redis.call('GET', KEYS[1]) or '0') < tonumber(ARGV[1]) then "
                "redis.call('SET', KEYS[1], ARGV[1]) end return 0",
                1,
                self.key("seq"),
                record.seq,
            )
        else:
            record = replace(record, seq=int(self.redis.incr(self.key("seq"))))
        with self.redis.pipeline() as pipe:
            pipe.hset(self.key("v", record.id), mapping={k: json.dumps(v) for k, v in asdict(record).items()})
            pipe.zadd(self.key("by_owner", record.owner), {record.id: record.seq})
            if record.running:
                pipe.sadd(self.key("running"), record.id)
                if not keep_seq:  # a new job runs here (a migrated one waits to be adopted)
                    self.runs.start(pipe, record.id)
            pipe.execute()
        if record.running and not keep_seq:
            self.runs.mine(record.id, True)
        return record

    def update(self, video_id: str, **changes: Any) -> None:
        unknown = set(changes) - set(_NAMES)
        if unknown:
            raise ValueError(f"no such video fields: {sorted(unknown)}")
        if not self.redis.exists(self.key("v", video_id)):
            return
        with self.redis.pipeline() as pipe:
            pipe.hset(self.key("v", video_id), mapping={k: json.dumps(v) for k, v in changes.items()})
            if "status" in changes:
                if changes["status"] in _RUNNING:
                    pipe.sadd(self.key("running"), video_id)
                else:
                    pipe.srem(self.key("running"), video_id)
                    self.runs.end(pipe, video_id)
            pipe.execute()
        if "status" in changes and changes["status"] not in _RUNNING:
            self.runs.mine(video_id, False)

    def get(self, video_id: str, owner: str | None = None) -> VideoRecord | None:
        stored = text_map(self.redis.hgetall(self.key("v", video_id)))
        if not stored:
            return None
        record = VideoRecord(**{name: json.loads(stored[name]) for name in _NAMES if name in stored})
        return record if owner is None or record.owner == owner else None

    def page(self, owner: str, *, after: str | None, limit: int, ascending: bool) -> list[VideoRecord]:
        index = self.key("by_owner", owner)
        if after is None:
            low, high = "-inf", "+inf"
        else:
            seq = self.redis.zscore(index, after)
            if seq is None:
                return []  # as on SQLite: an unknown cursor matches nothing
            low, high = (f"({int(seq)}", "+inf") if ascending else ("-inf", f"({int(seq)}")
        if ascending:
            ids = self.redis.zrangebyscore(index, low, high, start=0, num=limit)
        else:
            ids = self.redis.zrevrangebyscore(index, high, low, start=0, num=limit)
        records = [self.get(video_id) for video_id in texts(ids)]
        return [record for record in records if record is not None]

    def running(self, accounts: Collection[str] | None = None) -> list[VideoRecord]:
        """The unfinished jobs no live replica runs (a new job runs where it was created), now
        this replica's to resume: two replicas starting together never resume the same job.
        ``accounts``: only the jobs not started yet or on one of them (a job follows its account)."""
        records = [self.get(video_id) for video_id in texts(self.redis.smembers(self.key("running")))]
        waiting = sorted(
            (r for r in records if r is not None and r.running and _on(r, accounts)), key=lambda r: r.seq
        )
        adopted = set(self.runs.adopt(record.id for record in waiting))
        return [record for record in waiting if record.id in adopted]

    def delete(self, video_id: str, owner: str) -> bool:
        if self.get(video_id, owner) is None:
            return False
        with self.redis.pipeline() as pipe:
            pipe.delete(self.key("v", video_id))
            pipe.zrem(self.key("by_owner", owner), video_id)
            pipe.srem(self.key("running"), video_id)
            self.runs.end(pipe, video_id)
            pipe.execute()
        self.runs.mine(video_id, False)
        self.remove_files(video_id)
        return True
