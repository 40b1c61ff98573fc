"""A chat answer streamed from a gateway that is killed while it streams (the fault tests of one
gateway and of a replica among several): the simulator's answer is slowed so that the kill lands in
the middle of it, and the kill is made once, when the page is answering."""

from __future__ import annotations

from collections.abc import Callable

import httpx

# Frames 0.4 s apart, four characters each: an answer that takes seconds to stream.
SLOW_ANSWER = {"frame_interval": 0.4, "snapshot_chars": 4}


def slow_down(sim_url: str) -> None:
    httpx.post(f"{sim_url}/_sim/config", json=SLOW_ANSWER, timeout=10).raise_for_status()


def killed_mid_stream(
    url: str, key: str, model: str, prompt: str, kill: Callable[[], None], *, after: int = 3
) -> tuple[int, bool]:
    """Stream a chat answer from ``url`` and call ``kill`` once, when the ``after``-th data event
    (the role, then content: the page is answering) has arrived; the stream then breaks off with the
    connection. Returns the data events read and whether ``[DONE]`` came (it must not)."""
    events, finished, killed = 0, False, False
    with httpx.stream(
        "POST",
        f"{url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {key}"},
        json={"model": model, "stream": True, "messages": [{"role": "user", "content": prompt}]},
        timeout=60,
    ) as stream:
        assert stream.status_code == 200, stream.read()
        try:
            for line in stream.iter_lines():
                events += line.startswith("data: {")
                finished |= line == "data: [DONE]"
                # Once only: the SSE blank line after that event may already be read, and a second
                # kill would find the processes gone.
                if events >= after and not killed:
                    killed = True
                    kill()
        except httpx.HTTPError:
            pass  # the connection died with the gateway: the client sees an error
    return events, finished
