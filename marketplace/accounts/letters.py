# ruff: noqa: RUF001  (the Chinese letters are punctuated in full-width, as Chinese is)
"""What the account e-mails say, in the reader's language (Chinese or English).

Each letter is a subject and a body per language, formatted with the reader's name and
its link or facts. A link opens its page (pages/account.py); a mail with a link also
gives its code and the API call that takes it, for a program. The reader's language comes
from her CLDR locale (`users.locale`): zh_* reads Chinese,
anything else English. Flask-Babel will take these over later.
"""

from sqlalchemy.orm import Session

from marketplace.identity.models import User
from marketplace.notices import mail

LETTERS: dict[str, dict[str, tuple[str, str]]] = {
    "verify_email": {
        "en": (
            "Confirm your e-mail address for Piecework",
            "Hello {name},\n\nPlease confirm that this address is yours by opening this link "
            "within 24 hours:\n\n{link}\n\nOr send your code, {token}, to the API: POST "
            '/api/v1/signup/verify with {{"token": "{token}"}}.\n\nUntil then you can sign '
            "in, but not publish orders or claim work. If you did not sign up, ignore this "
            "message.\n\nPiecework\n",
        ),
        "zh": (
            "请确认您在 Piecework 的电子邮箱",
            "{name}，您好：\n\n请在 24 小时内打开以下链接，确认此邮箱属于您：\n\n{link}\n\n"
            "或把确认码 {token} 发送到 API：POST /api/v1/signup/verify，内容为 "
            '{{"token": "{token}"}}。\n\n'
            "确认之前您可以登录，但不能发布订单或领取任务。如果您没有注册，请忽略本邮件。\n\n"
            "Piecework\n",
        ),
    },
    "reset_password": {
        "en": (
            "Reset your Piecework password",
            "Hello {name},\n\nSomeone (we hope you) asked to reset your password. Open this "
            "link within an hour to choose a new one:\n\n{link}\n\nOr send your code, "
            "{token}, with the new password to the API: POST /api/v1/password-resets/complete "
            'with {{"token": "{token}", "password": "..."}}.\n\nThe code works once. '
            "Setting a new password signs you out everywhere. If you did not ask, ignore "
            "this message: your password stays as it is.\n\nPiecework\n",
        ),
        "zh": (
            "重置您的 Piecework 密码",
            "{name}，您好：\n\n有人（希望是您）申请重置您的密码。请在一小时内打开以下链接"
            "设置新密码：\n\n{link}\n\n或把重置码 {token} 和新密码发送到 API："
            "POST /api/v1/password-resets/complete，内容为 "
            '{{"token": "{token}", "password": "..."}}。\n\n重置码只能使用一次。设置新密码后，'
            "您在所有设备上都会退出登录。如果不是您申请的，请忽略本邮件，密码不会改变。\n\n"
            "Piecework\n",
        ),
    },
    "account_locked": {
        "en": (
            "Your Piecework account is locked until {until}",
            "Hello {name},\n\nWe refused {count} sign-ins with a wrong password in a row, so "
            "signing in to your account is locked until {until} (UTC). If that was not you, "
            "someone may be guessing your password: reset it (POST "
            "/api/v1/password-resets) once the lock ends.\n\nPiecework\n",
        ),
        "zh": (
            "您的 Piecework 账户已锁定至 {until}",
            "{name}，您好：\n\n您的账户连续 {count} 次登录密码错误，登录已锁定至 {until}"
            "（UTC）。如果不是您本人，可能有人在猜测您的密码：锁定结束后请重置密码"
            "（POST /api/v1/password-resets）。\n\nPiecework\n",
        ),
    },
    "signup_waiting": {
        "en": (
            "A new client waits for approval: {party}",
            "Hello {name},\n\n{party} ({email}) signed up as a client and waits for an "
            "administrator's approval before it publishes orders. Approve or refuse it with "
            "POST /api/v1/signups/{signup_id}/approve or /refuse; the waiting list is "
            "GET /api/v1/signups?status=pending.\n\nPiecework\n",
        ),
        "zh": (
            "新客户等待审核：{party}",
            "{name}，您好：\n\n{party}（{email}）已注册为客户，发布订单前需要管理员审核。"
            "请通过 POST /api/v1/signups/{signup_id}/approve 或 /refuse 处理；待审核列表见 "
            "GET /api/v1/signups?status=pending。\n\nPiecework\n",
        ),
    },
    "signup_approved": {
        "en": (
            "Your Piecework account for {party} is approved",
            "Hello {name},\n\nAn administrator approved {party}. Once your e-mail address "
            "is confirmed you can publish orders.\n{reason}\nPiecework\n",
        ),
        "zh": (
            "您在 Piecework 的账户 {party} 已通过审核",
            "{name}，您好：\n\n管理员已批准 {party}。确认邮箱后即可发布订单。\n{reason}\n"
            "Piecework\n",
        ),
    },
    "signup_refused": {
        "en": (
            "Your Piecework sign-up for {party} was not approved",
            "Hello {name},\n\nAn administrator did not approve {party}.\n{reason}\nYou can "
            "still sign in and see your application (GET /api/v1/signup); reply to this "
            "message if you think this is a mistake.\n\nPiecework\n",
        ),
        "zh": (
            "您在 Piecework 的注册 {party} 未通过审核",
            "{name}，您好：\n\n管理员未批准 {party}。\n{reason}\n您仍可登录查看申请状态"
            "（GET /api/v1/signup）；如认为有误，请回复本邮件。\n\nPiecework\n",
        ),
    },
}
REASON = {"en": "Reason: {reason}\n", "zh": "理由：{reason}\n"}


def language(locale: str) -> str:
    """The letters' language for a CLDR locale."""
    return "zh" if locale.lower().startswith("zh") else "en"


def send(session: Session, reader: User, letter: str, **values: object) -> None:
    """Queue the letter to the reader in her language, in this unit of work."""
    lang = language(reader.locale)
    if "reason" in values:
        values["reason"] = REASON[lang].format(reason=values["reason"]) if values["reason"] else ""
    subject, body = LETTERS[letter][lang]
    mail.queue(
        session,
        reader.email,
        subject.format(name=reader.name, **values),
        body.format(name=reader.name, **values),
    )
