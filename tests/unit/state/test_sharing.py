"""How the sharing list describes each link."""

from datetime import UTC, datetime, timedelta

from imgstream.services import shares
from imgstream.state.sharing import _row
from tests.unit.services.test_albums import photo_row

SECRET = b"test-secret"


def test_rows_say_expiry_views_and_offer_copy_until_revoked(session, owner):
    photo = photo_row(session, owner, "a.jpg", 3)
    now = datetime(2025, 6, 1, 12, tzinfo=UTC)
    forever = shares.create_share(session=session, secret=SECRET, owner_id=owner.id,
                                  photo_ids=[photo.id], now=now)
    old = shares.create_share(session=session, secret=SECRET, owner_id=owner.id,
                              photo_ids=[photo.id], now=now - timedelta(days=3),
                              expires_at=now - timedelta(days=2), password="pw")
    shares.record_view(session=session, share_id=forever.share.id, now=now)
    shares.revoke_share(session=session, owner_id=owner.id, share_id=old.share.id)
    rows = {s.share.id: _row(s, SECRET)
            for s in shares.list_shares(session=session, owner_id=owner.id, now=now)}

    fresh = rows[forever.share.id]
    assert fresh.expires_label == "never expires"
    assert fresh.views_label == "1 view · last viewed 1 Jun 2025, 12:00 UTC"
    assert fresh.path == f"/s/{forever.token}" and fresh.status == "active"
    assert fresh.what == "1 photo selected"
    revoked = rows[old.share.id]
    assert revoked.status == "revoked" and revoked.path == "" and revoked.protected
    assert revoked.views_label == "0 views · never viewed"
    assert revoked.expires_label.startswith("expired 30 May 2025")
