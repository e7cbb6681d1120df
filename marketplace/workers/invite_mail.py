"""The invitation mail, in the invitee's language (zh_CN or en; others read English)."""

# Chinese text is written with Chinese (full-width) punctuation.
# ruff: noqa: RUF001

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

ROLE_NAMES = {
    "zh_CN": {"annotator": "标注员", "reviewer": "审核员"},
    "en": {"annotator": "an annotator", "reviewer": "a reviewer"},
}

TEXTS = {
    "zh_CN": (
        "{inviter} 邀请你加入团队 {team}",
        "你好：\n\n"
        "{inviter} 邀请你以{role}身份加入 Piecework 上的团队「{team}」。\n\n"
        "接受邀请：{link}\n\n"
        "也可以把邀请码发送到 POST /api/v1/invites/accept：\n{token}\n\n"
        "邀请在 {expires} 前有效，只能使用一次。如果你不认识邀请人，请忽略这封邮件。\n",
    ),
    "en": (
        "{inviter} invites you to the team {team}",
        "Hello,\n\n"
        "{inviter} invites you to join the team {team} on Piecework as {role}.\n\n"
        "Accept the invite: {link}\n\n"
        "Or send this invite code to POST /api/v1/invites/accept:\n{token}\n\n"
        "The invite works once, until {expires}. If you do not know who sent it, "
        "ignore this mail.\n",
    ),
}


def invitation(
    locale: str,
    *,
    team: str,
    inviter: str,
    role: str,
    link: str,
    token: str,
    expires_at: datetime,
    zone: str,
) -> tuple[str, str]:
    """The subject and body of an invitation; its expiry in the team's time zone."""
    language = "zh_CN" if locale.startswith("zh") else "en"
    subject, body = TEXTS[language]
    expires = format_datetime(expires_at.astimezone(ZoneInfo(zone)), format="long", locale=language)
    values = {
        "team": team,
        "inviter": inviter,
        "role": ROLE_NAMES[language][role],
        "link": link,
        "token": token,
        "expires": expires,
    }
    return subject.format(**values), body.format(**values)
