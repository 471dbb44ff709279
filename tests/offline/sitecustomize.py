"""Network guard for test subprocesses, loaded at interpreter start through PYTHONPATH (see tests/offline_guard.py).

With CURATION_TEST_NET_LOG set, every TCP/UDP connection and every host-name lookup fails at once and is
appended to that file; with CURATION_TEST_NET_ALLOW=loopback, those to this machine itself still work.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket

_LOG = os.environ.get("CURATION_TEST_NET_LOG")
_ALLOW_LOOPBACK = os.environ.get("CURATION_TEST_NET_ALLOW") == "loopback"
_LOOPBACK_NAMES = {"localhost", "ip6-localhost"}


def _is_loopback(host: object) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _allowed(host: object) -> bool:
    return _ALLOW_LOOPBACK and _is_loopback(host)


def _is_address(host: object) -> bool:
    """An IP literal: looking it up needs no name server (connecting to it is checked on its own)."""
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    try:
        ipaddress.ip_address(str(host).split("%")[0])
        return True
    except ValueError:
        return False


def _record(what: str) -> None:
    with open(_LOG, "a", encoding="utf-8") as log:  # type: ignore[arg-type]
        log.write(f"{os.getpid()} {what}\n")


def _install() -> None:
    real_getaddrinfo, real_gethostbyname = socket.getaddrinfo, socket.gethostbyname
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def getaddrinfo(host, *args, **kwargs):
        if host is not None and not _is_address(host) and not _allowed(host):
            _record(f"lookup {host!r}")
            raise socket.gaierror(socket.EAI_NONAME, "name lookup blocked by the test's network guard")
        return real_getaddrinfo(host, *args, **kwargs)

    def gethostbyname(host):
        if not _is_address(host) and not _allowed(host):
            _record(f"lookup {host!r}")
            raise socket.gaierror(socket.EAI_NONAME, "name lookup blocked by the test's network guard")
        return real_gethostbyname(host)

    def blocked(sock: socket.socket, address) -> bool:
        if sock.family not in (socket.AF_INET, socket.AF_INET6) or _allowed(address[0]):
            return False
        _record(f"connect {address!r}")
        return True

    def connect(self, address):
        if blocked(self, address):
            raise OSError(errno.ENETUNREACH, "connection blocked by the test's network guard")
        return real_connect(self, address)

    def connect_ex(self, address):
        return errno.ENETUNREACH if blocked(self, address) else real_connect_ex(self, address)

    socket.getaddrinfo, socket.gethostbyname = getaddrinfo, gethostbyname
    socket.socket.connect, socket.socket.connect_ex = connect, connect_ex


if _LOG:
    _install()
