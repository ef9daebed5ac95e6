"""Share links: tokens, expiry, revocation, passwords, what a link shows, the list of links."""

import hashlib
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from imgstream.models import ShareLink
from imgstream.services import albums, identity, shares, trash
from tests.unit.services.test_albums import photo_row

SECRET = b"test-secret"


def share_selection(session, owner, photos, **options):
    return shares.create_share(session=session, secret=SECRET, owner_id=owner.id,
                               photo_ids=[p.id for p in photos], **options)


def test_token_is_random_and_only_its_hash_is_stored(session, owner, engine):
    photo = photo_row(session, owner, "a.jpg", 3)
    new = share_selection(session, owner, [photo])
    assert len(new.token) >= 32  # 24 random bytes in base64url
    assert new.share.token_hash == hashlib.sha256(new.token.encode()).hexdigest()
    dump = "\n".join(engine.raw_connection().driver_connection.iterdump())
    assert new.token not in dump, "the token never appears in the database"
    assert shares.reveal_token(secret=SECRET, share=new.share) == new.token
    assert shares.reveal_token(secret=b"rotated", share=new.share) is None
    other = share_selection(session, owner, [photo])
    assert other.token != new.token
    assert shares.open_share(session=session, token=new.token).id == new.share.id


def test_unknown_revoked_and_expired_links(session, owner):
    photo = photo_row(session, owner, "a.jpg", 3)
    now = datetime(2025, 6, 1, 12, tzinfo=UTC)
    week = share_selection(session, owner, [photo], now=now,
                           expires_at=shares.expiry_moment(shares.Expiry.WEEK, now=now))
    with pytest.raises(shares.ShareNotFound):
        shares.open_share(session=session, token="x" * 32)
    assert shares.open_share(session=session, token=week.token, now=now + timedelta(days=6))
    with pytest.raises(shares.ShareExpired):
        shares.open_share(session=session, token=week.token, now=now + timedelta(days=7))

    assert shares.revoke_share(session=session, owner_id=owner.id, share_id=week.share.id)
    with pytest.raises(shares.ShareNotFound):
        shares.open_share(session=session, token=week.token, now=now)
    other = identity.provision_user(session=session, email="eve@example.com")
    mine = share_selection(session, owner, [photo])
    assert not shares.revoke_share(session=session, owner_id=other.id, share_id=mine.share.id)
    assert shares.open_share(session=session, token=mine.token)


def test_expiry_choices(session):
    now = datetime(2025, 6, 1, 12, tzinfo=UTC)
    assert shares.expiry_moment(shares.Expiry.NEVER, now=now) is None
    assert shares.expiry_moment(shares.Expiry.DAY, now=now) == now + timedelta(days=1)
    assert shares.expiry_moment(shares.Expiry.MONTH, now=now) == now + timedelta(days=30)
    assert shares.expiry_moment(shares.Expiry.DATE, on=date(2025, 6, 3), now=now) == datetime(
        2025, 6, 4, tzinfo=UTC)
    with pytest.raises(shares.InvalidShare):
        shares.expiry_moment(shares.Expiry.DATE, on=date(2025, 5, 31), now=now)
    with pytest.raises(shares.InvalidShare):
        shares.expiry_moment(shares.Expiry.DATE, now=now)


def test_a_link_shows_only_what_it_shares(session, owner):
    other = identity.provision_user(session=session, email="eve@example.com")
    a, b, c = (photo_row(session, owner, f"{n}.jpg", d) for n, d in (("a", 5), ("b", 2), ("c", 9)))
    theirs = photo_row(session, other, "theirs.jpg", 4)
    new = share_selection(session, owner, [a, b, theirs])
    assert new.share.title == "2 photos"
    assert [p.id for p in shares.shared_photos(session=session, share=new.share)] == [b.id, a.id]
    assert shares.shared_photo(session=session, share=new.share, photo_id=c.id) is None
    assert shares.shared_photo(session=session, share=new.share, photo_id=theirs.id) is None
    with pytest.raises(shares.InvalidShare):
        share_selection(session, owner, [theirs])

    album = albums.create_album(session=session, owner_id=owner.id, name="Trip")
    albums.add_photos(session=session, owner_id=owner.id, album_id=album.id, photo_ids=[c.id])
    album_link = shares.create_share(session=session, secret=SECRET, owner_id=owner.id,
                                     album_id=album.id)
    assert album_link.share.title == "Trip"
    assert [p.id for p in shares.shared_photos(session=session, share=album_link.share)] == [c.id]
    with pytest.raises(shares.InvalidShare):
        shares.create_share(session=session, secret=SECRET, owner_id=other.id, album_id=album.id)

    # A photo in the trash leaves the link and comes back with restore; the album follows.
    trash.move_to_trash(session=session, owner_id=owner.id, photo_id=c.id)
    assert shares.shared_photos(session=session, share=album_link.share) == []
    trash.restore_photo(session=session, owner_id=owner.id, photo_id=c.id)
    assert len(shares.shared_photos(session=session, share=album_link.share)) == 1
    albums.delete_album(session=session, owner_id=owner.id, album_id=album.id)
    with pytest.raises(shares.ShareNotFound):
        shares.open_share(session=session, token=album_link.token)


def test_password_is_hashed_slowly_and_the_cookie_opens_that_link_only(session, owner):
    photo = photo_row(session, owner, "a.jpg", 3)
    locked = share_selection(session, owner, [photo], password="correct horse")
    assert locked.share.password_hash.startswith("scrypt$")
    assert "correct horse" not in locked.share.password_hash
    assert shares.check_password(share=locked.share, password="correct horse")
    assert not shares.check_password(share=locked.share, password="wrong")
    assert not shares.check_password(share=locked.share, password="x" * 10_000)

    cookie = shares.access_cookie(secret=SECRET, share=locked.share, now=1000)
    assert shares.has_access(secret=SECRET, share=locked.share, cookie=cookie, now=1001)
    assert not shares.has_access(secret=SECRET, share=locked.share, cookie=cookie,
                                 now=1000 + shares.ACCESS_COOKIE_SECONDS + 1)
    assert not shares.has_access(secret=SECRET, share=locked.share, cookie="", now=1001)
    assert not shares.has_access(secret=b"other", share=locked.share, cookie=cookie, now=1001)
    other = share_selection(session, owner, [photo], password="correct horse")
    assert not shares.has_access(secret=SECRET, share=other.share, cookie=cookie, now=1001)
    open_link = share_selection(session, owner, [photo])
    assert shares.has_access(secret=SECRET, share=open_link.share, cookie="", now=1001)


def test_wrong_passwords_are_limited_per_link_and_per_client():
    throttle = shares.PasswordThrottle(per_link=5, per_client=3, window_seconds=60)
    for _ in range(3):
        assert throttle.retry_after(link="L", client="1.1.1.1", now=0) == 0
        throttle.failed(link="L", client="1.1.1.1", now=0)
    assert throttle.retry_after(link="L", client="1.1.1.1", now=1) == 60
    assert throttle.retry_after(link="M", client="1.1.1.1", now=1) > 0, "per client, all links"
    assert throttle.retry_after(link="L", client="2.2.2.2", now=1) == 0
    throttle.failed(link="L", client="2.2.2.2", now=1)
    throttle.failed(link="L", client="3.3.3.3", now=1)
    assert throttle.retry_after(link="L", client="4.4.4.4", now=2) > 0, "per link, all clients"
    assert throttle.retry_after(link="L", client="4.4.4.4", now=62) == 0, "the window slides"


def test_list_of_links_says_what_when_views_and_status(session, owner):
    photo = photo_row(session, owner, "a.jpg", 3)
    now = datetime(2025, 6, 1, 12, tzinfo=UTC)
    first = share_selection(session, owner, [photo], now=now - timedelta(days=2),
                            expires_at=now - timedelta(days=1))
    second = share_selection(session, owner, [photo], now=now)
    shares.record_view(session=session, share_id=second.share.id, now=now)
    shares.record_view(session=session, share_id=second.share.id, now=now)
    listed = shares.list_shares(session=session, owner_id=owner.id, now=now)
    assert [s.share.id for s in listed] == [second.share.id, first.share.id]
    assert [s.status for s in listed] == [shares.ShareStatus.ACTIVE, shares.ShareStatus.EXPIRED]
    row = session.exec(select(ShareLink).where(ShareLink.id == second.share.id)).one()
    session.refresh(row)
    assert row.view_count == 2 and row.last_viewed_at is not None
    assert listed[0].photo_count == 1
