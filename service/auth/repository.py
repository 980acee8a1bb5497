"""Queries for organizations, users and keys."""

from sqlmodel import Session, select

from service.auth.models import ApiKey, AppUser, Organization


def get_organization_by_name(session: Session, name: str) -> Organization | None:
    return session.exec(select(Organization).where(Organization.name == name)).first()


def get_organization(session: Session, organization_id: str) -> Organization | None:
    return session.get(Organization, organization_id)


def get_key_with_user(session: Session, key_id: str) -> tuple[ApiKey, AppUser] | None:
    row = session.exec(select(ApiKey, AppUser).join(AppUser).where(ApiKey.key_id == key_id)).first()
    return (row[0], row[1]) if row else None


def get_user(session: Session, organization_id: str, user_id: str) -> AppUser | None:
    user = session.get(AppUser, user_id)
    return user if user and user.organization_id == organization_id else None


def get_key(session: Session, organization_id: str, key_pk: str) -> ApiKey | None:
    key = session.get(ApiKey, key_pk)
    return key if key and key.organization_id == organization_id else None
