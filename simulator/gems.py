"""The Gems the simulator knows: premade (system) ones for everyone and custom ones a test adds per
account through ``POST /_sim/gems``. The ``/gem/<id>`` page header, the CNgdBe list and the answer of
a StreamGenerate carrying a gem id (inner[19], protocol.md §3.3) read this."""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass

from simulator.accounts import Account


@dataclass(frozen=True)
class Gem:
    id: str  # the slug of /gem/<id> and StreamGenerate inner[19]
    name: str
    description: str
    prompt: str
    hidden: bool = False  # listed only when CNgdBe asks for hidden ones too (kind 4)


# page.md §1.7 and §2.10: Storybook is a premade Gem at /gem/storybook (fidelity.md A2 CONFIRMED).
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


class GemBook:
    """Custom Gems by owner: an account kind (``paid``: every account of that kind) or one account's
    ``__Secure-1PSID`` value. Real custom Gem ids are 12 hex digits in ``/gem/<id>`` (our choice of
    length; only the URL form is evidenced, page.md §1.7)."""

    def __init__(self) -> None:
        self._by_owner: dict[str, list[Gem]] = {}
        self._serial = itertools.count(1)

    def clear(self) -> None:
        self._by_owner.clear()

    def add(self, owner: str, name: str, description: str, prompt: str) -> Gem:
        digest = hashlib.sha256(f"gem:{owner}:{name}:{next(self._serial)}".encode()).hexdigest()
        gem = Gem(digest[:12], name, description, prompt)
        self._by_owner.setdefault(owner, []).append(gem)
        return gem

    def custom_for(self, account: Account) -> list[Gem]:
        if not account.session_valid:
            return []
        return [*self._by_owner.get(account.kind.value, []), *self._by_owner.get(account.key, [])]

    def find(self, account: Account, gem_id: str) -> Gem | None:
        """The Gem ``gem_id`` as this account sees it: premade, or one of its own custom Gems."""
        return system_gem(gem_id) or next((gem for gem in self.custom_for(account) if gem.id == gem_id), None)
