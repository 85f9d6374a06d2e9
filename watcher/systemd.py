"""The systemd notify protocol: READY, STOPPING, STATUS and the watchdog, over $NOTIFY_SOCKET.

Nothing here when the service runs outside systemd (no NOTIFY_SOCKET): every call is a no-op.
"""

from __future__ import annotations

import os
import socket


def notify(state: str, environ=os.environ) -> bool:
    address = environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]  # abstract namespace
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.connect(address)
        sock.sendall(state.encode())
    return True


def watchdog_seconds(environ=os.environ) -> float | None:
    """WatchdogSec= as seconds, when systemd asked this process (WATCHDOG_PID) to feed it."""
    usec = environ.get("WATCHDOG_USEC")
    pid = environ.get("WATCHDOG_PID")
    if not usec or (pid and pid != str(os.getpid())):
        return None
    return int(usec) / 1_000_000
