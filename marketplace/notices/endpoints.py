"""Webhook endpoints: a client's or team's own URLs for its events, and their delivery log.

Only the party's own managers (a client's client_admin, a team's team_owner) register,
read and change its endpoints; another party's endpoint is 404, a member in another
role gets 403. The secret is shown once, when the endpoint is made or its secret rotated.
"""

import secrets
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from marketplace.db import find, keyset_page
from marketplace.errors import Conflict, Forbidden, Invalid, NotFound
from marketplace.identity.actor import Actor
from marketplace.identity.models import Role
from marketplace.notices.addresses import NotPublic, Unresolvable, check_public
from marketplace.notices.models import Delivery, WebhookEndpoint

MANAGERS = (Role.CLIENT_ADMIN, Role.TEAM_OWNER)
MAX_ENDPOINTS_PER_PARTY = 16


def new_secret() -> str:
    return f"whsec_{secrets.token_hex(24)}"


def register_endpoint(
    session: Session,
    actor: Actor,
    *,
    url: str,
    events: list[str],
    description: str | None = None,
    party_id: int | None = None,
    allow_private: bool = False,
) -> WebhookEndpoint:
    """Register an endpoint for the actor's client or team (the one named, or its only
    one); its deliveries start with the next event. 422 `url_not_public` for a URL whose
    host is or resolves to a non-public address (unless `allow_private`); 409
    `too_many_endpoints` past MAX_ENDPOINTS_PER_PARTY."""
    party = _managed_party(actor, party_id)
    _require_public(url, allow_private)
    count = session.scalar(select(func.count()).where(WebhookEndpoint.party_id == party))
    if count >= MAX_ENDPOINTS_PER_PARTY:
        raise Conflict(
            f"A party has at most {MAX_ENDPOINTS_PER_PARTY} webhook endpoints.",
            code="too_many_endpoints",
            max=MAX_ENDPOINTS_PER_PARTY,
        )
    endpoint = WebhookEndpoint(
        party_id=party,
        url=url,
        events=sorted(set(events)),
        description=description,
        secret=new_secret(),
        enabled=True,
        created_by_user_id=actor.user_id,
    )
    session.add(endpoint)
    session.flush()
    return endpoint


def _require_public(url: str, allow_private: bool) -> None:
    """422 unless the URL's host is public. A name that does not resolve yet is taken (its
    DNS may come later): every delivery checks again and fails while it does not."""
    if allow_private:
        return
    try:
        check_public(url)
    except NotPublic as refused:
        raise Invalid(
            f"Webhooks go only to public addresses: {refused}.", code="url_not_public", field="url"
        ) from None
    except Unresolvable:
        pass


def _managed_party(actor: Actor, party_id: int | None) -> int:
    managed = actor.party_ids(*MANAGERS)
    if party_id is None:
        if not managed:
            raise Forbidden(
                "Your role does not allow this.", required_roles=[str(r) for r in MANAGERS]
            )
        if len(managed) != 1:
            raise Invalid(
                "Name the party you act for.", code="party_required", choices=sorted(managed)
            )
        return next(iter(managed))
    if party_id in managed:
        return party_id
    if party_id in actor.party_ids():
        raise Forbidden("Your role does not allow this.", required_roles=[str(r) for r in MANAGERS])
    raise NotFound(f"No party {party_id} that you act for.", code="party_not_found")


def list_endpoints(session: Session, actor: Actor) -> list[WebhookEndpoint]:
    """The endpoints of every party the actor manages, in id order (403 for a member
    who manages none)."""
    managed = actor.party_ids(*MANAGERS)
    if not managed:
        raise Forbidden("Your role does not allow this.", required_roles=[str(r) for r in MANAGERS])
    return list(
        session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.party_id.in_(managed))
            .order_by(WebhookEndpoint.id)
        )
    )


def get_endpoint(session: Session, actor: Actor, endpoint_id: int) -> WebhookEndpoint:
    """One of the actor's parties' endpoints: 404 for another party's, 403 for a member
    of the party who does not manage it."""
    endpoint = find(session, WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.party_id not in actor.party_ids():
        raise NotFound(f"No webhook endpoint {endpoint_id}.", code="webhook_endpoint_not_found")
    actor.require(*MANAGERS, party_id=endpoint.party_id)
    return endpoint


def update_endpoint(
    session: Session,
    actor: Actor,
    endpoint_id: int,
    changes: dict[str, Any],
    *,
    allow_private: bool = False,
) -> WebhookEndpoint:
    """Change the endpoint's url, events, description or enabled flag; a disabled endpoint
    gets no new deliveries, and those already waiting are still tried. A new url is
    refused as at registration (422 `url_not_public`)."""
    endpoint = get_endpoint(session, actor, endpoint_id)
    if "url" in changes:
        _require_public(changes["url"], allow_private)
    for name in ("url", "description", "enabled"):
        if name in changes:
            setattr(endpoint, name, changes[name])
    if "events" in changes:
        endpoint.events = sorted(set(changes["events"]))
    return endpoint


def rotate_secret(session: Session, actor: Actor, endpoint_id: int) -> WebhookEndpoint:
    """Give the endpoint a new secret at once: every attempt from now on is signed with it."""
    endpoint = get_endpoint(session, actor, endpoint_id)
    endpoint.secret = new_secret()
    return endpoint


def delete_endpoint(session: Session, actor: Actor, endpoint_id: int) -> None:
    """Remove the endpoint and its delivery log; nothing more is sent to it."""
    endpoint = get_endpoint(session, actor, endpoint_id)
    session.execute(delete(Delivery).where(Delivery.endpoint_id == endpoint.id))
    session.delete(endpoint)


def list_deliveries(
    session: Session, actor: Actor, endpoint_id: int, *, limit: int, after: int
) -> list[Delivery]:
    """The endpoint's delivery log, oldest first, with each event as it was sent."""
    endpoint = get_endpoint(session, actor, endpoint_id)
    query = select(Delivery).where(Delivery.endpoint_id == endpoint.id)
    return keyset_page(session, query, limit=limit, after=after)
