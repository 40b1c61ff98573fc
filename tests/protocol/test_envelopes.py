"""parse_frame: results, BardErrorInfo errors (full and short form), stats, trailer, xsrf, unknown."""

from __future__ import annotations

import pytest

from browser.errors import ProtocolError
from browser.protocol import (
    ErrorEnvelope,
    ResultEnvelope,
    StatsEnvelope,
    TrailerEnvelope,
    UnknownEnvelope,
    XsrfError,
    decode_turn,
    parse_frame,
    split_body,
)
from tests.protocol.bodies import GUARD, body, dumps, error, stats
from tests.support.paths import realdata


@pytest.mark.parametrize(
    ("name", "status", "code"), [("error_1060.txt", 9, 1060), ("error_1096.txt", 13, 1096)]
)
def test_real_error_bodies(name: str, status: int, code: int) -> None:
    frames = [parse_frame(text) for text in split_body(realdata("protocol", name).read_bytes())]
    assert frames[0] == [ErrorEnvelope(status, code)]
    di, httprm = frames[1]
    assert isinstance(di, StatsEnvelope) and isinstance(httprm, StatsEnvelope)
    assert (di.kind, httprm.kind, len(httprm.values)) == ("di", "af.httprm", 3)
    assert frames[2] == [TrailerEnvelope(4, 216)]


def test_usage_limit_1037() -> None:
    snapshot = decode_turn(body([[error(8, 1037)], stats()]))
    assert (snapshot.error_code, snapshot.error_status, snapshot.failed) == (1037, 8, True)


def test_batchexecute_result_and_short_error_form() -> None:
    ok = '[["wrb.fr","c8o8Fe","[\\"https://lh3.googleusercontent.com/gg-dl/AHiVA1\\"]",null,null,null,"generic"]]'
    assert parse_frame(ok) == [ResultEnvelope("c8o8Fe", ["https://lh3.googleusercontent.com/gg-dl/AHiVA1"])]
    short = '[["wrb.fr","c8o8Fe",null,null,null,[13],"generic"]]'
    assert parse_frame(short) == [ErrorEnvelope(13, None)]


def test_xsrf_400_body() -> None:
    er = [
        ["er", None, None, None, None, 400, None, None, None, 3, None, [{"48448350": ["xsrf", "AD1_tok:1"]}]]
    ]
    raw = (GUARD + dumps(er) + "\n").encode("utf-8")
    assert parse_frame(split_body(raw)[0]) == [XsrfError("AD1_tok:1")]
    snapshot = decode_turn(raw)
    assert snapshot.xsrf_rejected and snapshot.xsrf_token == "AD1_tok:1" and snapshot.failed
    assert "AD1_tok" not in repr(snapshot)


def test_er_without_xsrf_and_unknown_items_are_kept_verbatim() -> None:
    assert parse_frame('[["er",null,400]]') == [UnknownEnvelope(["er", None, 400])]
    assert parse_frame('[["zz",1],7]') == [UnknownEnvelope(["zz", 1]), UnknownEnvelope(7)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[", "not valid JSON"),
        ('{"a":1}', "not a list"),
        ('[["wrb.fr",null,"[1,"]]', "payload is not valid JSON"),
        ('[["wrb.fr",null,[1]]]', "not a string"),
        ('[["e",4]]', "trailer"),
    ],
)
def test_malformed_frames_raise_protocol_error(text: str, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        parse_frame(text)
