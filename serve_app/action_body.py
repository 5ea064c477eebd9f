"""The optional body of an action on an alert or incident: who acts, and why."""

from __future__ import annotations

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field

from serve_app.wire import json_body, read_model, refuse_form_posts


class ActionRequest(BaseModel):
    """Optional body of acknowledge / resolve / escalate: who acts, and why (kept on the
    tenant's change stream and the incident's timeline)."""

    model_config = ConfigDict(extra="forbid")

    by: str | None = Field(default=None, max_length=256)
    reason: str | None = Field(default=None, max_length=4096)


ACTION_BODY = json_body(ActionRequest, required=False)


async def read_action(request: Request) -> ActionRequest:
    """The action body; an empty body means no name and no reason."""
    if not await request.body():
        refuse_form_posts(request)  # a cross-site form may send nothing but its type
        return ActionRequest()
    return await read_model(request, ActionRequest)
