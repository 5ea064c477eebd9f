"""Signed action links, as Teams cards carry them:
``/api/v1/links/{tenant}/{incident}/{acknowledge|resolve}?expires=...&sig=...``.

``GET`` only shows a page asking to confirm (chat clients and mail scanners open
links by themselves; a GET must not act); the page's button ``POST``s the same link,
which acts on the incident. Both check the signature (the tenant's secret
``link-signing-secret``) and the expiry first: a forged link is 401, an expired one
410, and neither changes anything.
"""

from __future__ import annotations

import html
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from actors.notifiers.teams import LINK_SECRET
from alerting.audit import AuditAction
from alerting.lifecycle import Action
from alerting.signature import verify_link
from cluster.keys import check_tenant_id
from serve_app.problems import ApiError
from serve_app.wire import ingress_of

PREFIX = "/api/v1/links"
ACTIONS = tuple(Action)

router = APIRouter(prefix=PREFIX, tags=["links"])
MAX_VIA = 128  # a channel name's length at most


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
        f"</title></head><body><h1>{html.escape(title)}</h1>{body}</body></html>",
        status_code=status,
    )


async def _checked(
    request: Request, tenant: str, incident_id: str, action: str
) -> tuple[Any, str, str]:
    """The replica, the tenant and the channel the link was sent to (signed), once the
    link is known to be genuine and alive."""
    ingress = ingress_of(request)
    if action not in ACTIONS:
        raise ApiError(404, "not_found", f"no action {action!r}")
    try:
        tenant = check_tenant_id(tenant)
        expires = int(request.query_params.get("expires", ""))
    except ValueError:
        raise ApiError(401, "unauthorized", "this link is not a valid Vigil link") from None
    given = request.query_params.get("sig", "")
    via = request.query_params.get("via", "")[:MAX_VIA]
    secret = await ingress.tenant_secret(tenant, LINK_SECRET)
    if secret is None or not verify_link(secret, tenant, incident_id, action, expires, given, via):
        raise ApiError(401, "unauthorized", "this link is not a valid Vigil link")
    if expires < time.time():
        raise ApiError(410, "expired", "this link has expired; open the incident in Vigil")
    ingress.admit(tenant)  # a link is the tenant's request too: its tier's rate applies
    return ingress, tenant, via


@router.get("/{tenant}/{incident_id}/{action}")
async def confirm(tenant: str, incident_id: str, action: str, request: Request) -> HTMLResponse:
    """Ask to confirm (a GET never acts)."""
    await _checked(request, tenant, incident_id, action)
    label = html.escape(action.capitalize())
    form = (
        f"<p>{label} incident <code>{html.escape(incident_id)}</code>?</p>"
        f"<form method='post'><button type='submit'>{label}</button></form>"
    )
    return _page(f"{action.capitalize()} incident {incident_id}", form)


@router.post("/{tenant}/{incident_id}/{action}")
async def act(tenant: str, incident_id: str, action: str, request: Request) -> HTMLResponse:
    """Acknowledge or resolve the incident the link names."""
    ingress, tenant, via = await _checked(request, tenant, incident_id, action)
    # Whoever holds the link may click it: the record names the channel it was sent to.
    by = f"link via {via}" if via else "link"
    incident = await ingress.correlator(tenant).act(Action(action), incident_id, by, "from a link")
    target = f"incident {incident_id}"
    await ingress.audit(tenant, by, AuditAction(action), target, {"via": via or "signed link"})
    state = incident.state.value
    return _page(f"Incident {incident_id} is {state}", "<p>You can close this page.</p>")
