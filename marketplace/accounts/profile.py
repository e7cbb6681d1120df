"""What a user says of herself: her language."""

from sqlalchemy.orm import Session

from marketplace.identity.actor import Actor
from marketplace.identity.models import User


def set_locale(session: Session, actor: Actor, locale: str) -> User:
    """Her language from now on (a CLDR locale: zh_CN or en): the pages she opens in a
    new session, the mails she is sent and her statements speak it."""
    user = session.get(User, actor.user_id)
    user.locale = locale
    return user
