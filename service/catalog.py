"""The model catalog as data: every public model name and what serving it needs from the page.

Each entry names the page mode family and the tool (the browser layer's own ``ModeFamily`` and
``Tool``), the gem, whether image input is accepted, and what kind of output the model produces.
Serving code asks the catalog; it never branches on model names. Which account serves a model is
decided by what its page offers (the family in its picker, the tool in its tools menu), never by a
paid or free label: free accounts also offer Create image, Canvas, Deep Research and a limited Pro
(docs/architecture/evidence.md#d8).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from browser import AccountInfo, Gem, ModeFamily, Tool
from service.errors import ModelNotFound, NoHealthyAccount, NotOffered, ServiceError
from service.gem_models import GemAliases, custom_gem_models, gem_of

__all__ = [
    "CATALOG",
    "Catalog",
    "GemListing",
    "ModelSpec",
    "OutputKind",
    "can_serve",
    "fitting_accounts",
    "gem_spec",
    "offers_gem",
    "unservable",
]


class OutputKind(enum.StrEnum):
    TEXT = "text"
    IMAGES = "images"
    DOCUMENT = "document"
    REPORT = "report"
    STORY = "story"
    VIDEO = "video"
    MUSIC = "music"


@dataclass(frozen=True)
class ModelSpec:
    """One public model name and how the page serves it."""

    name: str
    family: ModeFamily
    tool: Tool | None
    gem: str | None
    image_input: bool
    output: OutputKind
    # A Gem of the accounts (``service.gem_models``): served only by the accounts that have it.
    gem_model: bool = False
    # A Gem model named by an alias: the Gem's id or name it stands for (``GemSettings.aliases``).
    gem_target: str | None = None

    @property
    def chat_ready(self) -> bool:
        """Whether chat completions can serve it (text; images via ``service.images.chat``; canvas,
        storybook, video and deep research via ``service.chat.longrun``; music via
        ``service.chat.music``): every model today."""
        return True


def _spec(
    name: str,
    family: ModeFamily,
    output: OutputKind,
    *,
    tool: Tool | None = None,
    gem: str | None = None,
    images: bool = True,
) -> ModelSpec:
    return ModelSpec(name, family, tool, gem, images, output)


F, P = ModeFamily.FLASH, ModeFamily.PRO
CATALOG: tuple[ModelSpec, ...] = (
    _spec("gemini-2.5-flash-free", F, OutputKind.TEXT, images=False),
    _spec("gemini-2.5-flash", F, OutputKind.TEXT),
    _spec("gemini-2.5-flash-imagen", F, OutputKind.IMAGES, tool=Tool.IMAGE),
    _spec("gemini-2.5-flash-canvas", F, OutputKind.DOCUMENT, tool=Tool.CANVAS),
    _spec("gemini-2.5-flash-deepsearch", F, OutputKind.REPORT, tool=Tool.DEEP_RESEARCH),
    _spec("gemini-2.5-flash-storybook", F, OutputKind.STORY, gem="storybook"),
    _spec("gemini-2.5-pro", P, OutputKind.TEXT),
    _spec("gemini-2.5-pro-deepsearch", P, OutputKind.REPORT, tool=Tool.DEEP_RESEARCH),
    _spec("gemini-2.5-pro-video", P, OutputKind.VIDEO, tool=Tool.VIDEO),
    _spec("gemini-2.5-pro-canvas", P, OutputKind.DOCUMENT, tool=Tool.CANVAS),
    _spec("gemini-2.5-pro-imagen", P, OutputKind.IMAGES, tool=Tool.IMAGE),
    _spec("gemini-2.5-pro-storybook", P, OutputKind.STORY, gem="storybook"),
    # Create music (Lyria, ~30 s): text prompts only (service.chat.music).
    _spec("gemini-2.5-flash-music", F, OutputKind.MUSIC, tool=Tool.MUSIC, images=False),
)
_BY_NAME = {spec.name: spec for spec in CATALOG}


def _normal(name: str) -> str:
    # Clients write names in any case, some with Google's "models/" prefix.
    return name.strip().lower().removeprefix("models/")


def _catalog_model(name: str) -> ModelSpec | None:
    """A model of the fixed catalog (never a Gem model): for what only the catalog's models reach."""
    return _BY_NAME.get(name) or _BY_NAME.get(_normal(name))


@dataclass(frozen=True)
class Catalog:
    """The models one app serves: the fixed catalog, and the accounts' Gem models with the app's
    own Gem aliases (built from its settings, so two apps in one process never share them)."""

    gems: GemAliases = field(default_factory=GemAliases)

    def find(self, name: str) -> ModelSpec | None:
        spec = _catalog_model(name)
        normal = _normal(name)
        if spec is None and self.gems.is_gem_model(normal):
            # Whether an account has this Gem is read when it is served (``can_serve``, ``unservable``).
            return gem_spec(normal, self.gems.target(normal))
        return spec

    def gem_specs(self, accounts: Iterable[AccountInfo]) -> list[ModelSpec]:
        """Every Gem model some account offers (sorted by name); an alias that is a catalog model's
        name is not one (the catalog model wins)."""
        names = (name for name in self.gems.model_names(accounts) if name not in _BY_NAME)
        return [gem_spec(name, self.gems.target(name)) for name in names]

    def account_gems(self, account: AccountInfo) -> dict[str, str]:
        """The Gem models ``account`` offers: model name → its Gem id."""
        return self.gems.account_models(account)

    def gem_listing(self, account: AccountInfo) -> list[GemListing]:
        """Each Gem of ``account`` that a model name reaches, in the account's order: its custom
        Gems (``gem-<slug>``, unless an alias took that name) and the Gems its aliases name. An alias
        that is a catalog model's name reaches nothing (the catalog model wins) and is left out."""
        own = {gem_id: name for name, gem_id in custom_gem_models(account).items()}
        routed = self.account_gems(account)
        listing = []
        for gem in account.gems:
            model = own.get(gem.id)
            if model is not None and routed.get(model) != gem.id:
                model = None  # an alias of that name routes to another Gem
            aliases = tuple(
                sorted(
                    name
                    for name, gem_id in routed.items()
                    if gem_id == gem.id and name != own.get(gem.id) and name not in _BY_NAME
                )
            )
            if model is not None or aliases:
                listing.append(GemListing(gem, model, aliases))
        return listing


@dataclass(frozen=True)
class GemListing:
    """One Gem of an account as the app serves it: its ``gem-<slug>`` model (None for a premade
    Gem, or a name an alias took) and the app's aliases that name it."""

    gem: Gem
    model: str | None
    aliases: tuple[str, ...]


def gem_spec(name: str, target: str | None = None) -> ModelSpec:
    """A Gem model: text from the page's default model, on the Gem's page."""
    return ModelSpec(
        name, ModeFamily.FLASH, None, None, True, OutputKind.TEXT, gem_model=True, gem_target=target
    )


def offers_gem(spec: ModelSpec, account: AccountInfo) -> bool:
    """Whether ``account`` has the Gem of the Gem model ``spec``."""
    return gem_of(account, spec.name, spec.gem_target) is not None


# An account in one of these states can take turns now or soon; the others are out of rotation.
_SERVING_STATES = frozenset({"ready", "busy", "cooling", "starting"})


def can_serve(spec: ModelSpec, accounts: Iterable[AccountInfo]) -> bool:
    """True when at least one account in rotation offers the model's mode and tool."""
    return any(_account_fits(spec, account) for account in accounts)


def fitting_accounts(spec: ModelSpec, accounts: Iterable[AccountInfo]) -> list[AccountInfo]:
    """The accounts in rotation that offer the model's mode and tool."""
    return [account for account in accounts if _account_fits(spec, account)]


def _account_fits(spec: ModelSpec, account: AccountInfo) -> bool:
    return str(account.state) in _SERVING_STATES and _offers(spec, account)


def unservable(spec: ModelSpec, accounts: Sequence[AccountInfo]) -> ServiceError:
    """Why no account can serve ``spec``: accounts are in rotation and none of their pages offers
    what it needs (403 ``not_offered``: adding an account that offers it is the remedy), or none is
    in rotation now (503)."""
    if spec.gem_model and not any(offers_gem(spec, account) for account in accounts):
        return ModelNotFound(spec.name)  # no account has such a Gem: to the client, no such model
    serving = [account for account in accounts if str(account.state) in ("ready", "busy", "cooling")]
    if serving and not any(_offers(spec, account) for account in serving):
        return NotOffered(f"{spec.name} needs {_needs(spec)}; no account in rotation offers it.")
    return NoHealthyAccount(f"No account in rotation can serve {spec.name} now.")


def _offers(spec: ModelSpec, account: AccountInfo) -> bool:
    """The account's page offers the model's family and tool (and the Gem, for a Gem model)."""
    if spec.gem_model and not offers_gem(spec, account):
        return False
    return spec.family in account.modes and (spec.tool is None or spec.tool in account.tools)


def _needs(spec: ModelSpec) -> str:
    what = f"the {spec.family.value.capitalize()} model"
    if spec.tool is not None:
        what += f" with the {_TOOL_NAMES[spec.tool]} tool"
    return what


# As the page's tools menu names them.
_TOOL_NAMES = {
    Tool.IMAGE: "Create image",
    Tool.VIDEO: "Create video",
    Tool.CANVAS: "Canvas",
    Tool.DEEP_RESEARCH: "Deep Research",
    Tool.MUSIC: "Create music",
}
