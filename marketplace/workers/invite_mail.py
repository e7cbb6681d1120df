"""The invitation mail, in the invitee's language (accounts.letters picks it)."""

# Chinese text is written with Chinese (full-width) punctuation.
# ruff: noqa: RUF001

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from marketplace.accounts.letters import language

ROLE_NAMES = {
    "zh": {"annotator": "标注员", "reviewer": "审核员"},
    "en": {"annotator": "an annotator", "reviewer": "a reviewer"},
}

# The link opens the invitation's page (pages/account.py), where someone new chooses her
# name and password and someone with an account signs in. The code and the API call
# that takes it follow, for who accepts with a program.
TEXTS = {
    "zh": (
        "{inviter} 邀请你加入团队 {team}",
        "你好：\n\n"
        "{inviter} 邀请你以{role}身份加入 Piecework 上的团队「{team}」。\n\n"
        "打开链接接受邀请（新用户在页面上设置姓名和密码，已有账户请输入密码）：\n{link}\n\n"
        "邀请码：{token}\n\n"
        '接受邀请的 API 调用：POST /api/v1/invites/accept，内容 {{"token": "{token}"}}'
        "（另加您的 password；新用户另加 name 和新 password）。\n\n"
        "邀请在 {expires} 前有效，只能使用一次。如果你不认识邀请人，请忽略这封邮件。\n",
    ),
    "en": (
        "{inviter} invites you to the team {team}",
        "Hello,\n\n"
        "{inviter} invites you to join the team {team} on Piecework as {role}.\n\n"
        "Open this link to accept (new to Piecework: choose your name and a password "
        "there; with an account: its password):\n{link}\n\n"
        "Your invite code: {token}\n\n"
        'To accept through the API: POST /api/v1/invites/accept with {{"token": "{token}"}} '
        "(add your password; new to Piecework: your name and a new password).\n\n"
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
    lang = language(locale)
    subject, body = TEXTS[lang]
    expires = format_datetime(expires_at.astimezone(ZoneInfo(zone)), format="long", locale=lang)
    values = {
        "team": team,
        "inviter": inviter,
        "role": ROLE_NAMES[lang][role],
        "link": link,
        "token": token,
        "expires": expires,
    }
    return subject.format(**values), body.format(**values)
