"""The premade Gems the simulator knows: the ``/gem/<slug>`` header and the CNgdBe list read this."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Gem:
    id: str  # the slug of /gem/<id> and StreamGenerate inner[19]
    name: str
    description: str
    prompt: str
    hidden: bool = False  # listed only when CNgdBe asks for hidden ones too (kind 4)


SYSTEM_GEMS = (
    Gem(
        "storybook",
        "Storybook",
        "Create a one-of-a-kind illustrated storybook with art and narration.",
        "You write short illustrated stories.",
    ),
    Gem("brainstormer", "Brainstormer", "Get ideas flowing.", "You brainstorm ideas with the user."),
    Gem("coding-partner", "Coding partner", "Code with a partner.", "You help with code.", hidden=True),
)


def system_gem(slug: str) -> Gem | None:
    return next((gem for gem in SYSTEM_GEMS if gem.id == slug), None)
