"""Who is signed in: user provisioning and development sign-in."""

from __future__ import annotations

import uuid

from sqlmodel import Session, select

from imgstream.models import User, utcnow


def provision_user(*, session: Session, email: str, display_name: str = "") -> User:
    """Find the user with this email, creating them on first sign-in; records the login.

    Args:
        session: Database session.
        email: The verified email address.
        display_name: Name to show, if known.

    Returns:
        The user.
    """
    email = email.strip().lower()
    user = session.exec(select(User).where(User.email == email)).first()
    if user is None:
        user = User(email=email, display_name=display_name or email.split("@", 1)[0])
        session.add(user)
    user.last_login_at = utcnow()
    session.commit()
    session.refresh(user)
    return user


def get_user(*, session: Session, user_id: uuid.UUID) -> User | None:
    """The user with this id, if any."""
    return session.get(User, user_id)
