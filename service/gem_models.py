"""Gems as models: each account's custom Gems are offered as ``gem-<slug>``, and ``gems.aliases``
adds names of the operator's choosing for any Gem (custom or premade) by its id or its name.

A custom Gem lives in one account under that account's own id (peers-late-2026.md §1.5: xwteam
binds Gem models to their owner account), so a Gem model is served only by the accounts that list
it, each on its own Gem (``TurnRequest.gem_by_account``). The accounts' Gems are listed by the
browser layer (``AccountInfo.gems``: at start, on a re-check, every ``browser.gems_interval``).

The aliases belong to one app: ``GemAliases`` is built from its settings and held by its
``service.catalog.Catalog`` (two apps in one process each resolve only their own). A model resolved
from an alias carries the alias's target (``ModelSpec.gem_target``), so which accounts serve it is a
function of the model and the accounts alone (``gem_of``, ``gem_routes``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field, field_validator

from browser import AccountInfo, Gem

__all__ = [
    "GEM_PREFIX",
    "GemAliases",
    "GemSettings",
    "custom_gem_models",
    "gem_of",
    "gem_routes",
    "slug",
]

GEM_PREFIX = "gem-"
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


class GemSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    aliases: dict[str, str] = Field(
        default_factory=dict,
        description="More model names for Gems: alias → a Gem's id or its name (any case), e.g. "
        '`{"pirate": "Pirate captain"}`. An alias can name a premade Gem too (by id, such as '
        "`storybook`). It is offered by the accounts that have such a Gem; an alias that is also a "
        "catalog model's name is never used (the catalog model wins).",
    )

    @field_validator("aliases")
    @classmethod
    def _lower_names(cls, value: dict[str, str]) -> dict[str, str]:
        aliases = {alias.strip().lower(): target.strip() for alias, target in value.items()}
        if any(not alias or not target for alias, target in aliases.items()):
            raise ValueError("a Gem alias and its target are not empty")
        if len(aliases) != len(value):
            raise ValueError("Gem aliases are unique in any case")
        return aliases


def slug(name: str) -> str:
    """``Pirate Captain!`` → ``pirate-captain``: lower-case letters and digits joined by dashes."""
    return _NOT_SLUG.sub("-", name.lower()).strip("-")


def custom_gem_models(account: AccountInfo) -> dict[str, str]:
    """The ``gem-<slug>`` models ``account`` offers: model name → the account's Gem id. A custom
    Gem is ``gem-<slug of its name>`` (``gem-<id>`` when the name has no letters or digits); a second
    Gem of the account with the same slug gets ``-2``, then ``-3``, in listing order."""
    models: dict[str, str] = {}
    for gem in account.gems:
        if gem.premade:
            continue
        base = GEM_PREFIX + (slug(gem.name) or slug(gem.id))
        name, serial = base, 2
        while name in models:
            name, serial = f"{base}-{serial}", serial + 1
        models[name] = gem.id
    return models


def _match(gems: Iterable[Gem], target: str) -> Gem | None:
    gems = tuple(gems)
    by_id = next((gem for gem in gems if gem.id == target), None)
    return by_id or next((gem for gem in gems if gem.name.casefold() == target.casefold()), None)


def gem_of(account: AccountInfo, name: str, target: str | None = None) -> str | None:
    """The id of ``account``'s Gem serving the Gem model ``name``: an alias's ``target`` (a Gem id
    or name) when the model came from an alias, else the account's own ``gem-<slug>``."""
    if target is not None:
        matched = _match(account.gems, target)
        return None if matched is None else matched.id
    return custom_gem_models(account).get(name)


def gem_routes(name: str, target: str | None, accounts: Iterable[AccountInfo]) -> Mapping[str, str]:
    """Account id → Gem id, for the accounts offering the Gem model ``name`` (``target``: see
    ``gem_of``)."""
    routes: dict[str, str] = {}
    for account in accounts:
        gem_id = gem_of(account, name, target)
        if gem_id is not None:
            routes[account.id] = gem_id
    return routes


@dataclass(frozen=True)
class GemAliases:
    """One app's Gem aliases (``GemSettings.aliases``, lower-cased): alias → a Gem's id or name."""

    aliases: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: GemSettings) -> GemAliases:
        return cls(dict(settings.aliases))

    def target(self, name: str) -> str | None:
        """The Gem an alias (lower-cased) names, or None when ``name`` is no alias of this app."""
        return self.aliases.get(name)

    def is_gem_model(self, name: str) -> bool:
        """Whether ``name`` (lower-cased) has the form of a Gem model: the prefix, or an alias."""
        return name in self.aliases or (name.startswith(GEM_PREFIX) and len(name) > len(GEM_PREFIX))

    def account_models(self, account: AccountInfo) -> dict[str, str]:
        """Every Gem model ``account`` offers: its ``gem-<slug>`` models and the aliases whose Gem
        it has (an alias wins over a ``gem-<slug>`` of the same name), model name → Gem id."""
        models = custom_gem_models(account)
        for alias, target in self.aliases.items():
            matched = _match(account.gems, target)
            if matched is not None:
                models[alias] = matched.id
        return models

    def model_names(self, accounts: Iterable[AccountInfo]) -> list[str]:
        """Every Gem model some account offers, sorted."""
        return sorted({name for account in accounts for name in self.account_models(account)})
