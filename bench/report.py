"""Goals vs. measured figures: the printed table (PASS/MISS, informational) and the JSON rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Check", "checks", "table"]


@dataclass(frozen=True)
class Check:
    name: str
    goal: str
    measured: str
    passed: bool | None  # None: no goal, figure only

    def row(self) -> dict[str, Any]:
        return {"name": self.name, "goal": self.goal, "measured": self.measured, "pass": self.passed}


def _ms(figures: dict[str, Any]) -> str:
    return f"p50 {figures['p50_ms']:.1f} ms, p95 {figures['p95_ms']:.1f} ms (n={figures['n']})"


def checks(results: dict[str, Any]) -> list[Check]:
    rows = _latency_rows(results) if "ttft" in results else []  # absent with --memory-only
    for name, memory in results.get("memory_variants", {"": results.get("memory")}).items():
        if memory is not None:
            rows.append(_memory_row(name, memory))
    return rows


def _latency_rows(results: dict[str, Any]) -> list[Check]:
    ttft, relay, driving = results["ttft"], results["relay"], results["driving"]
    ratio = ttft["ratio_of_medians"]
    rows = [
        Check("TTFT via gateway (openai SDK)", "-", _ms(ttft["gateway"]), None),
        Check("TTFT via raw client", "-", _ms(ttft["raw"]), None),
        Check("TTFT ratio of medians", "<= 1.15", f"{ratio:.3f}", ratio <= 1.15),
        Check(
            "relay: frame written -> SSE delta",
            "p50 <= 5 ms, p95 <= 20 ms",
            _ms(relay),
            relay["p50_ms"] <= 5 and relay["p95_ms"] <= 20,
        ),
    ]
    for key, label in (("new_chat", "new chat"), ("follow_up", "follow-up")):
        figures = driving[key]
        rows.append(
            Check(
                f"driving: request -> StreamGenerate ({label})",
                "p50 <= 300 ms",
                _ms(figures),
                figures["p50_ms"] <= 300,
            )
        )
    return rows


def _memory_row(variant: str, memory: dict[str, Any]) -> Check:
    low, high = memory["low"], memory["high"]
    label = f"memory per warm account, {variant}" if variant else "Chromium memory per warm account"
    # The goals: 150 MiB for a context in the shared browser; 300 MiB for a persistent profile,
    # a whole browser per account (issue 19). Comparison rows have none.
    goal = None if "comparison" in variant else 300 if variant.startswith("persistent") else 150
    rss = memory["per_account_rss_mib"]
    return Check(
        label,
        f"RSS <= {goal} MiB" if goal else "-",
        f"RSS {rss} MiB, PSS {memory['per_account_pss_mib']} MiB, "
        f"USS {memory.get('per_account_uss_mib', '?')} MiB, "
        f"shared clean {memory.get('per_account_shared_clean_mib', '?')} MiB, "
        f"{memory.get('per_account_renderers', '?')} renderers "
        f"(RSS {low['rss_mib']} -> {high['rss_mib']} MiB, {low['accounts']} -> {high['accounts']} accounts)",
        rss <= goal if goal else None,
    )


def table(rows: list[Check]) -> str:
    """A Markdown table (prints well in a terminal and pastes into docs/benchmarks.md as is)."""
    lines = ["| measure | goal | measured | result |", "|---|---|---|---|"]
    for row in rows:
        verdict = "-" if row.passed is None else ("PASS" if row.passed else "MISS")
        lines.append(f"| {row.name} | {row.goal} | {row.measured} | {verdict} |")
    return "\n".join(lines)
