"""The routing tree: which receivers (and grouping options) an alert's labels select.

Semantics are Alertmanager's (``dispatch/route.go``): a route matches when all its
matchers hold; its children are tried in order, and the first child that matches
stops the search unless it has ``continue: true``; a matching route with no matching
child is itself the result. Children inherit ``receiver``, ``group_by`` and the
three timing fields from their parent; the root matches every alert.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from alerting.duration import parse_duration
from alerting.errors import InvalidConfig, InvalidMatcher
from alerting.matchers import LABEL_NAME, Matcher, MatchOp, matches_all, parse_matchers

GROUP_BY_ALL = "..."
DEFAULT_GROUP_WAIT = timedelta(seconds=30)
DEFAULT_GROUP_INTERVAL = timedelta(minutes=5)
DEFAULT_REPEAT_INTERVAL = timedelta(hours=4)


class RouteSpec(BaseModel):
    """One ``route:`` block exactly as written in ``alertmanager.yml`` (unknown keys refused)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    receiver: str | None = None
    group_by: list[str] | None = None
    continue_: bool = Field(default=False, alias="continue")
    match: dict[str, str] = Field(default_factory=dict)
    match_re: dict[str, str] = Field(default_factory=dict)
    matchers: list[str] = Field(default_factory=list)
    group_wait: str | None = None
    group_interval: str | None = None
    repeat_interval: str | None = None
    mute_time_intervals: list[str] = Field(default_factory=list)
    active_time_intervals: list[str] = Field(default_factory=list)
    routes: list[RouteSpec] = Field(default_factory=list)

    @field_validator("group_wait", "group_interval", "repeat_interval")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value


@dataclass(frozen=True)
class Route:
    """A node of the routing tree with every inherited option resolved.

    ``group_by`` is ``None`` for ``'...'`` (group by every label); ``path`` names the
    node by child indexes from the root (``""`` is the root, ``"1.0"`` the first child
    of the second child), which is stable for a given configuration. ``key`` is
    Alertmanager's route key (``{}/{team="db"}``): the matchers of every node from the
    root down, which prefixes the group keys Alertmanager sends to receivers.
    """

    receiver: str
    matchers: tuple[Matcher, ...]
    group_by: tuple[str, ...] | None
    group_wait: timedelta
    group_interval: timedelta
    repeat_interval: timedelta
    continue_: bool
    routes: tuple[Route, ...]
    path: str
    mute_time_intervals: tuple[str, ...] = ()
    active_time_intervals: tuple[str, ...] = ()
    key: str = "{}"

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether this node's own matchers hold for the labels."""
        return matches_all(self.matchers, labels)

    def match(self, labels: Mapping[str, str]) -> list[Route]:
        """The routes an alert with these labels is sent to, in tree order."""
        if not self.matches(labels):
            return []
        found: list[Route] = []
        for child in self.routes:
            matched = child.match(labels)
            found.extend(matched)
            if matched and not child.continue_:
                break
        return found or [self]

    def group_labels(self, labels: Mapping[str, str]) -> dict[str, str]:
        """The labels an alert's group is keyed by on this route (absent ones left out)."""
        if self.group_by is None:
            return dict(labels)
        return {name: labels[name] for name in self.group_by if name in labels}

    def walk(self) -> list[Route]:
        """This node and all its descendants, depth first."""
        nodes = [self]
        for child in self.routes:
            nodes.extend(child.walk())
        return nodes

    def describe(self) -> str:
        """One line like amtool's tree view: matchers, ``continue``, receiver."""
        if not self.path:
            head = "default-route"
        else:
            head = "{" + ", ".join(str(m) for m in self.matchers) + "}"
        cont = "  continue: true" if self.continue_ else ""
        return f"{head}{cont}  receiver: {self.receiver}"


def receivers_for(root: Route, labels: Mapping[str, str]) -> list[str]:
    """Receiver names of the matching routes, in tree order (``amtool config routes test``).

    A receiver named by two matching routes appears twice, as in Alertmanager: each
    route groups and notifies on its own.
    """
    return [route.receiver for route in root.match(labels)]


def build_route(spec: RouteSpec, parent: Route | None = None, path: str = "") -> Route:
    """Resolve a ``RouteSpec`` tree into ``Route`` nodes (``InvalidConfig`` says what is wrong)."""
    where = f"route{'.' + path if path else ''}"
    if parent is None:
        _check_root(spec)
    receiver = spec.receiver or (parent.receiver if parent else "")
    # An empty or absent group_by inherits, as in Alertmanager; the root's default is
    # no labels at all (one group per route).
    group_by: tuple[str, ...] | None = ()
    if spec.group_by:
        group_by = _group_by(spec.group_by, where)
    elif parent is not None:
        group_by = parent.group_by

    def timing(value: str | None, inherited: timedelta | None, default: timedelta) -> timedelta:
        if value is not None:
            return parse_duration(value)
        return inherited if inherited is not None else default

    group_interval = timing(
        spec.group_interval, parent.group_interval if parent else None, DEFAULT_GROUP_INTERVAL
    )
    repeat_interval = timing(
        spec.repeat_interval, parent.repeat_interval if parent else None, DEFAULT_REPEAT_INTERVAL
    )
    for name, value in (("group_interval", group_interval), ("repeat_interval", repeat_interval)):
        if value <= timedelta(0):
            raise InvalidConfig(f"{where}.{name}: cannot be zero")
    matchers = _matchers(spec, where)
    # Alertmanager keeps an old-style match_re value anchored, and its key shows it so.
    anchored = tuple(
        Matcher.create(m.name, m.op, f"^(?:{m.value})$") if i in _match_re_indexes(spec) else m
        for i, m in enumerate(matchers)
    )
    own_key = route_key_part(anchored)
    node = Route(
        receiver=receiver,
        matchers=matchers,
        group_by=group_by,
        group_wait=timing(
            spec.group_wait, parent.group_wait if parent else None, DEFAULT_GROUP_WAIT
        ),
        group_interval=group_interval,
        repeat_interval=repeat_interval,
        continue_=spec.continue_,
        routes=(),
        path=path,
        mute_time_intervals=tuple(spec.mute_time_intervals),
        active_time_intervals=tuple(spec.active_time_intervals),
        key=f"{parent.key}/{own_key}" if parent is not None else own_key,
    )
    children = tuple(
        build_route(child, node, f"{path}.{i}" if path else str(i))
        for i, child in enumerate(spec.routes)
    )
    return Route(**{**node.__dict__, "routes": children})


_OP_ORDER = {MatchOp.EQUAL: 0, MatchOp.NOT_EQUAL: 1, MatchOp.REGEX: 2, MatchOp.NOT_REGEX: 3}


def route_key_part(matchers: tuple[Matcher, ...]) -> str:
    """One node's part of the route key: its matchers sorted as Alertmanager sorts them
    (by name, value, then operator) in braces, comma-separated."""
    ordered = sorted(matchers, key=lambda m: (m.name, m.value, _OP_ORDER[m.op]))
    return "{" + ",".join(str(m) for m in ordered) + "}"


def _check_root(spec: RouteSpec) -> None:
    """The root route catches everything, so Alertmanager forbids these on it."""
    if not spec.receiver:
        raise InvalidConfig("route: root route must specify a default receiver")
    if spec.match or spec.match_re or spec.matchers:
        raise InvalidConfig("route: root route must not have any matchers")
    if spec.continue_:
        raise InvalidConfig("route: cannot have continue in root route")
    if spec.mute_time_intervals or spec.active_time_intervals:
        raise InvalidConfig("route: root route must not have any mute or active time intervals")


def _group_by(names: list[str], where: str) -> tuple[str, ...] | None:
    if GROUP_BY_ALL in names:
        if len(names) > 1:
            raise InvalidConfig(
                f"{where}.group_by: cannot have wildcard group_by ('...') and other labels"
            )
        return None
    seen: set[str] = set()
    for name in names:
        if not LABEL_NAME.fullmatch(name):
            raise InvalidConfig(f"{where}.group_by: invalid label name {name!r}")
        if name in seen:
            raise InvalidConfig(f"{where}.group_by: duplicated label {name!r}")
        seen.add(name)
    return tuple(names)


def _match_re_indexes(spec: RouteSpec) -> range:
    """Positions in ``_matchers(spec)`` of the matchers that came from ``match_re``."""
    return range(len(spec.match), len(spec.match) + len(spec.match_re))


def _matchers(spec: RouteSpec, where: str) -> tuple[Matcher, ...]:
    """``match`` (equality), ``match_re`` (anchored regex) and ``matchers`` as one list."""
    found: list[Matcher] = []
    try:
        for name, value in spec.match.items():
            found.append(Matcher.create(name, MatchOp.EQUAL, value))
        for name, value in spec.match_re.items():
            found.append(Matcher.create(name, MatchOp.REGEX, value))
        for line in spec.matchers:
            found.extend(parse_matchers(line))
    except InvalidMatcher as exc:
        raise InvalidConfig(f"{where}: {exc.message}") from None
    return tuple(found)


def route_to_dict(route: Route) -> dict[str, Any]:
    """A JSON-friendly view of one resolved route (for the API and ``vigil config``)."""
    return {
        "path": route.path,
        "receiver": route.receiver,
        "matchers": [str(m) for m in route.matchers],
        "group_by": ["..."] if route.group_by is None else list(route.group_by),
        "group_wait": route.group_wait.total_seconds(),
        "group_interval": route.group_interval.total_seconds(),
        "repeat_interval": route.repeat_interval.total_seconds(),
        "continue": route.continue_,
    }
