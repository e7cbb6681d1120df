from flask import current_app, request
from flask.views import MethodView

from marketplace.db import db, unit_of_work
from marketplace.identity.auth import BEARER_AUTH, current_actor
from marketplace.identity.service import digest
from marketplace.limits import limiter
from marketplace.web import Blueprint
from marketplace.workers import invites, members
from marketplace.workers.invite_schemas import (
    AcceptIn,
    AcceptOut,
    InviteIn,
    InviteListArgs,
    InviteOut,
    MemberStateOut,
)

blp = Blueprint(
    "members",
    __name__,
    url_prefix="/api/v1",
    description="Team invites, and members deactivated and back",
)


def _by_team() -> str:
    """The team an invitation is sent from: its owner's invites are counted together."""
    return f"team:{request.view_args['team_id']}"


def _by_invite() -> str:
    """The invite an acceptance names, by its token's digest (the token is a secret)."""
    body = request.get_json(silent=True)
    token = body.get("token") if isinstance(body, dict) else None
    return "invite:" + digest(token if isinstance(token, str) else "")


@blp.route("/teams/<int:team_id>/invites")
class Invites(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(InviteListArgs, location="query")
    @blp.response(200, InviteOut(many=True))
    def get(self, args, team_id):
        """Your team's invites, oldest first: all, or pending, accepted, revoked or expired"""
        return invites.list_invites(db.session, current_actor(), team_id, **args)

    @blp.doc(security=BEARER_AUTH)
    # Only invitations sent count: calls refused (another team's id) cannot use one up.
    @limiter.limit(
        lambda: current_app.config["TEAM_INVITES_LIMIT"],
        key_func=_by_team,
        deduct_when=lambda response: response.status_code == 201,
    )
    @blp.arguments(InviteIn)
    @blp.response(201, InviteOut)
    def post(self, data, team_id):
        """Invite a person by e-mail to your team as an annotator or reviewer, at a level.

        Needs a verified e-mail address (403 `email_not_verified`); a team sends at most
        TEAM_INVITES_LIMIT invitations (429 with Retry-After)."""
        with unit_of_work() as session:
            return invites.invite(
                session,
                current_actor(),
                team_id,
                link_base=current_app.config["PUBLIC_URL"],
                **data,
            )


@blp.route("/teams/<int:team_id>/invites/<int:invite_id>")
class InviteById(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, InviteOut)
    def delete(self, team_id, invite_id):
        """Revoke a pending invite: its link stops working"""
        with unit_of_work() as session:
            return invites.revoke(session, current_actor(), team_id, invite_id)


@blp.route("/invites/accept")
class AcceptInvite(MethodView):
    @blp.doc(security=[{}, *BEARER_AUTH])
    @limiter.limit(lambda: current_app.config["INVITE_ACCEPT_LIMIT_PER_ADDRESS"])
    @limiter.limit(
        lambda: current_app.config["INVITE_ACCEPT_LIMIT_PER_INVITE"], key_func=_by_invite
    )
    @blp.arguments(AcceptIn)
    @blp.response(201, AcceptOut)
    def post(self, data):
        """Accept an invite with the code from its e-mail; answers a bearer token to work with.

        New to Piecework: send your name, a password and your language. Already have an
        account with the invited address: send its password, or call with your bearer
        token. Throttled per address and per invite (429 with Retry-After)."""
        signed_in = current_actor() if "Authorization" in request.headers else None
        with unit_of_work() as session:
            outcome = invites.accept(session, signed_in=signed_in, **data)
        if outcome.refusal is not None:  # raised after the commit, which counted it
            raise outcome.refusal
        invite = outcome.invite
        return {
            "token": outcome.token,
            "user": outcome.user,
            "team_id": invite.team_party_id,
            "role": invite.role,
        }


@blp.route("/teams/<int:team_id>/members/<int:user_id>/deactivate")
class DeactivateMember(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, MemberStateOut)
    def post(self, team_id, user_id):
        """Deactivate a member: her tasks in hand go back at once, she takes no more work,
        and what she earned stays hers"""
        with unit_of_work() as session:
            return members.deactivate(session, current_actor(), team_id, user_id)


@blp.route("/teams/<int:team_id>/members/<int:user_id>/reactivate")
class ReactivateMember(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, MemberStateOut)
    def post(self, team_id, user_id):
        """Take a deactivated member back: she takes the team's work again"""
        with unit_of_work() as session:
            return members.reactivate(session, current_actor(), team_id, user_id)
