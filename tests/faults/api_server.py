"""Serve the app's HTTP routes for one signed-in person in a process of its own (a "worker").

`python -m tests.faults.api_server PORT OWNER_ID` serves `http_api()` with Granian on
127.0.0.1:PORT, every request signed in as OWNER_ID; the settings come from the environment.
Fault tests start two of these on one database and one store, and kill or starve them.
"""

from __future__ import annotations

import asyncio
import sys
import uuid

from granian.constants import Interfaces
from granian.server.embed import Server

from imgstream.api import http_api
from imgstream.services import imaging
from tests.unit.api.test_media import as_user


def main() -> None:
    port, owner = int(sys.argv[1]), uuid.UUID(sys.argv[2])
    imaging.configure()
    server = Server(as_user(http_api(), owner), address="127.0.0.1", port=port,
                    interface=Interfaces.ASGINL, log_enabled=False)
    asyncio.run(server.serve())


if __name__ == "__main__":
    main()
