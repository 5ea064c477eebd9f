"""A tenant's change stream loses nothing the correlator has not applied.

Before, every write trimmed the stream to ~1,000,000 entries (``VIGIL_CHANGE_STREAM_MAXLEN``,
at least 1,000) whether or not the correlator had read them: a long stall lost the
pages of stored alerts. Now only the correlator trims, up to its committed position,
in the same transaction as the position.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import redis

from alerting.correlation import Outbox
from cluster import keys
from cluster.incident_store import IncidentStore
from cluster.records import ChangeEntry
from cluster.store import AlertStore
from tests.system import Vigil

pytestmark = pytest.mark.integration

TENANT = "sec-stream"  # no actor of this tenant runs: nothing reads its stream but this


async def test_unread_changes_stay_and_read_ones_go(vigil: Vigil) -> None:
    url = vigil.settings.redis_url or ""
    client = redis.Redis.from_url(url)
    client.delete(keys.changes(TENANT))
    writer, reader = AlertStore(TENANT, url), IncidentStore(TENANT, url)
    entry = ChangeEntry(datetime.now(UTC), ())
    try:
        for _ in range(1500):  # past the old minimum cap of 1,000
            await writer._store_with_change(keys.alerts(TENANT), {"x": "{}"}, entry)
        assert client.xlen(keys.changes(TENANT)) == 1500  # unread: all of it stays
        ids = [i for i, _ in client.xrange(keys.changes(TENANT))]
        await reader.commit(Outbox(), ids[999].decode())  # the correlator applied 1,000
        left = [i for i, _ in client.xrange(keys.changes(TENANT))]
        assert left[-500:] == ids[1000:]  # everything after its position is kept
        assert ids[999] in left  # and its position itself ("~" never trims past it)
        assert len(left) < 1500  # what it read went
    finally:
        client.delete(keys.changes(TENANT), keys.alerts(TENANT), keys.correlator(TENANT))
        client.close()
        await writer.aclose()
        await reader.aclose()
