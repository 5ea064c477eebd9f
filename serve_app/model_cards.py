"""A model card as one tenant may see it (``GET /api/v1/models``).

A card counts every tenant's labelled incidents (``ModelCard.labelled``), which is
what decides whether each tenant's risk is provisional. Tenants distrust each other:
a tenant sees its own count and nobody else's, not even the other tenants' names,
with what that means for its own scores.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from models.registry import ModelCard
from models.trust import Standing


def card_for(card: ModelCard, tenant: str) -> dict[str, Any]:
    """The card's JSON with only ``tenant``'s labelled incidents, and whether this
    model's risk is provisional for ``tenant`` (the reason, or None)."""
    shown = asdict(card)
    own = card.labelled.get(tenant)
    shown["labelled"] = {} if own is None else {tenant: own}
    standing = Standing.of(card)
    shown["provisional"] = standing.provisional_reason(tenant)
    return shown
