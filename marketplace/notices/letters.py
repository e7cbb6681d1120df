"""What the notice e-mails say, in the reader's language: Chinese for a zh locale, else
English; amounts in the reader's CLDR locale (`users.locale`, e.g. zh_CN).

Each letter is a function of the reader and what happened, giving (subject, body).
"""

# Chinese text takes Chinese punctuation (full-width colons, commas, parentheses).
# ruff: noqa: RUF001

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.numbers import format_currency

from marketplace.identity.models import User
from marketplace.money import from_minor

SIGNATURE = {"zh": "Piecework 平台", "en": "Piecework"}


def language(reader: User) -> str:
    return "zh" if reader.locale.lower().startswith("zh") else "en"


def money(reader: User, amount_minor: int, currency: str) -> str:
    return format_currency(from_minor(amount_minor, currency), currency, locale=reader.locale)


def _letter(reader: User, subject: str, lines: list[str]) -> tuple[str, str]:
    body = "\n\n".join(lines)
    return subject, f"{reader.name}:\n\n{body}\n\n{SIGNATURE[language(reader)]}\n"


def drop_ahead(
    reader: User,
    *,
    batches: int,
    title: str,
    at: datetime,
    timezone: str,
    team: str,
    interest: int | None,
    order_id: int,
) -> tuple[str, str]:
    """To a team owner who asked: a drop her team `team` may claim is coming."""
    when = f"{at.astimezone(ZoneInfo(timezone)):%Y-%m-%d %H:%M} {timezone}"
    if language(reader) == "zh":
        mine = f"{team} 的抽签意向：{interest} 批" if interest else f"{team} 没有登记抽签意向"
        return _letter(
            reader,
            f"{batches} 批「{title}」将于 {when} 发布",
            [f"{batches} 批「{title}」（订单 {order_id}）将于 {when} 发布；{mine}。"],
        )
    mine = (
        f"{team}'s lottery interest: {interest}"
        if interest
        else f"no lottery interest registered for {team}"
    )
    return _letter(
        reader,
        f"{batches} batches of {title} drop at {when}",
        [f"{batches} batches of {title} (order {order_id}) drop at {when}; {mine}."],
    )


def drop_not_released(
    reader: User, *, status: str, order_id: int, title: str, client: str, reason: str
) -> tuple[str, str]:
    """To a platform admin: a drop was skipped or held, and nobody else would notice."""
    if language(reader) == "zh":
        what = "跳过" if status == "skipped" else "暂停"
        return _letter(
            reader,
            f"订单 {order_id}（{client}）的一次发布被{what}",
            [f"订单 {order_id}「{title}」（客户 {client}）的一次发布被{what}：{reason}。"],
        )
    return _letter(
        reader,
        f"A drop of order {order_id} ({client}) was {status}",
        [f"A drop of order {order_id}, {title} (client {client}), was {status}: {reason}."],
    )


def earnings_available(reader: User, *, amount_minor: int, currency: str) -> tuple[str, str]:
    """To an annotator: the client paid, and this much of her earnings is available."""
    amount = money(reader, amount_minor, currency)
    if language(reader) == "zh":
        return _letter(
            reader,
            f"{amount} 收入已可提现",
            [f"客户已付款：你的 {amount} 收入已可提现，将在下一次付款时支付给你。"],
        )
    return _letter(
        reader,
        f"{amount} of your earnings is available",
        [
            f"The client paid: {amount} of your earnings is available and goes out in the "
            "next payout."
        ],
    )


def earnings_paid(reader: User, *, amount_minor: int, currency: str, sent: bool) -> tuple[str, str]:
    """To an annotator: a payout to her was made (`sent`: handed to the bank or gateway),
    or is on its way (its gateway transfers are queued, not yet sent)."""
    amount = money(reader, amount_minor, currency)
    zh = language(reader) == "zh"
    if sent:
        if zh:
            return _letter(reader, f"已向你支付 {amount}", [f"已向你的收款账户支付 {amount}。"])
        return _letter(reader, f"{amount} was paid to you", [f"{amount} was paid to your account."])
    if zh:
        return _letter(
            reader,
            f"{amount} 正在支付给你",
            [f"{amount} 的付款已排队，正在转入你的收款账户；到账时间以收款平台为准。"],
        )
    return _letter(
        reader,
        f"{amount} is on its way to you",
        [
            f"A payout of {amount} is on its way to your account: its transfer is queued "
            "and will show in your account once the payment provider has made it."
        ],
    )
