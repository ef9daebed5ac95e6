import hashlib
import uuid
from datetime import timedelta

import pytest

from imgstream.models import ApiKey, ApiScope, utcnow
from imgstream.services import api_keys
from imgstream.services.api_keys import InvalidKeyRequest


def test_a_key_carries_256_random_bits_and_only_their_hash_is_kept(session, owner):
    made = api_keys.create_key(session=session, owner=owner, scopes=["photos:read"], name="nas")
    prefix, key_id, secret = made.token.split("_", 2)
    assert prefix == "isk" and uuid.UUID(hex=key_id) == made.key.id
    assert len(secret) == 43  # 32 bytes, base64url without padding
    row = session.get(ApiKey, made.key.id)
    assert row.secret_sha256 == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in repr(row.model_dump())
    other = api_keys.create_key(session=session, owner=owner, scopes=["photos:read"])
    assert other.token.split("_", 2)[2] != secret


def test_a_key_authenticates_with_exactly_its_scopes(session, owner):
    made = api_keys.create_key(session=session, owner=owner, scopes=["upload", "photos:read"])
    holder = api_keys.authenticate(session=session, token=made.token)
    assert holder.owner_id == owner.id and holder.key_id == made.key.id
    assert holder.scopes == {ApiScope.UPLOAD, ApiScope.PHOTOS_READ}
    assert session.get(ApiKey, made.key.id).last_used_at is not None


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),
    lambda t: t.replace("isk_", "isk-"),
    lambda t: f"isk_{uuid.uuid4().hex}_{t.split('_', 2)[2]}",
    lambda t: t + "x",
    lambda t: "",
])
def test_a_wrong_or_malformed_key_is_refused(session, owner, mangle):
    made = api_keys.create_key(session=session, owner=owner, scopes=["upload"])
    assert api_keys.authenticate(session=session, token=mangle(made.token)) is None


def test_revoked_and_expired_keys_stop_working(session, owner):
    now = utcnow()
    revoked = api_keys.create_key(session=session, owner=owner, scopes=["upload"])
    assert api_keys.revoke_key(session=session, owner_id=owner.id, key_id=revoked.key.id)
    assert api_keys.authenticate(session=session, token=revoked.token) is None
    assert not api_keys.revoke_key(session=session, owner_id=owner.id, key_id=revoked.key.id)
    expiring = api_keys.create_key(session=session, owner=owner, scopes=["upload"],
                                   expires_at=now + timedelta(hours=1))
    assert api_keys.authenticate(session=session, token=expiring.token, now=now) is not None
    assert api_keys.authenticate(session=session, token=expiring.token,
                                 now=now + timedelta(hours=2)) is None
    assert [key.id for key in api_keys.list_keys(session=session, owner_id=owner.id)] == [
        expiring.key.id]


def test_only_the_owner_revokes_a_key(session, owner):
    from imgstream.services import identity

    made = api_keys.create_key(session=session, owner=owner, scopes=["upload"])
    bob = identity.provision_user(session=session, email="bob@example.com")
    assert not api_keys.revoke_key(session=session, owner_id=bob.id, key_id=made.key.id)
    assert api_keys.authenticate(session=session, token=made.token) is not None


@pytest.mark.parametrize(("scopes", "expires", "message"), [
    (["photos:delete"], None, "unknown scope 'photos:delete'"),
    ([], None, "at least one scope"),
    (["upload"], timedelta(seconds=-1), "in the future"),
])
def test_keys_that_cannot_be_made(session, owner, scopes, expires, message):
    with pytest.raises(InvalidKeyRequest, match=message):
        api_keys.create_key(session=session, owner=owner, scopes=scopes,
                            expires_at=utcnow() + expires if expires else None)


def test_the_admin_command_makes_keys_by_email(session):
    made = api_keys.create_key_for_email(session=session, email="New@Example.com",
                                         scopes=["upload", "albums"])
    holder = api_keys.authenticate(session=session, token=made.token)
    assert holder.scopes == {ApiScope.UPLOAD, ApiScope.ALBUMS}
    again = api_keys.create_key_for_email(session=session, email="new@example.com",
                                          scopes=["upload"])
    assert again.key.owner_id == made.key.owner_id
