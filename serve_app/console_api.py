"""The on-call web console at ``/console``: static files served by Vigil itself (same
origin, nothing from a CDN), and ``GET /api/v1/whoami``, which it signs in with.

    GET /console                 the page
    GET /console/<asset>         its script, style sheet and icon (a fixed list)
    GET /api/v1/whoami           the tenant and key a request's credentials stand for

The page holds the tenant key in the tab's session storage and sends it as a Bearer
header; it never puts it in a URL, so no log, history or Referer sees it. Its Content
Security Policy allows only this origin's scripts and connections, and no framing.
"""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from serve_app.problems import ApiError
from serve_app.wire import ingress_of

router = APIRouter(tags=["console"])

ASSETS = {
    "console.js": "text/javascript; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
    "icon.svg": "image/svg+xml",
}
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}


def _asset(name: str) -> bytes:
    return resources.files("serve_app").joinpath("console", name).read_bytes()


@router.get("/console", include_in_schema=False)
async def console_page() -> Response:
    """The console's page (it signs in with a tenant key)."""
    html = _asset("index.html")
    return Response(html, media_type="text/html; charset=utf-8", headers=SECURITY_HEADERS)


@router.get("/console/{name}", include_in_schema=False)
async def console_asset(name: str) -> Response:
    """One of the console's files."""
    media_type = ASSETS.get(name)
    if media_type is None:
        raise ApiError(404, "not_found", f"the console has no file {name[:64]!r}")
    return Response(_asset(name), media_type=media_type, headers=SECURITY_HEADERS)


@router.get("/api/v1/whoami", tags=["tenants"])
async def whoami(request: Request) -> JSONResponse:
    """The tenant (id and name) and the key (its label) the credentials stand for."""
    ingress = ingress_of(request)
    principal = await ingress.principal(request)
    config = ingress.config.tenant(principal.tenant)
    return JSONResponse(
        {
            "tenant": principal.tenant,
            "name": (config.name if config else "") or principal.tenant,
            "key": principal.actor,
        }
    )
