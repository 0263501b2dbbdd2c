"""Where memtop serve listens: parsing --listen, binding, and saying plainly why a bind failed.

The default port is 9632. Prometheus keeps a list of default ports so that
exporters on one host do not collide (prometheus.io "Writing exporters",
"Port numbers"; the wiki page "Default port allocations"). 9632 is marked
"FREE" there between the smartctl exporter's 9633 and an OP5 Monitor
exporter's 9631, in the newest copy of the list that could be read while
this was written; the list's 9100-9999 range has been reported full since
2023, so the allocation is to be confirmed on the wiki when memtop is
released (one line there). Listening on loopback by default keeps per-process
command names off the network until someone chooses otherwise.
"""

from __future__ import annotations

import errno
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the command line parses --listen without loading prometheus_client
    from wsgiref.simple_server import WSGIServer

    from prometheus_client import CollectorRegistry

DEFAULT_PORT = 9632
DEFAULT_LISTEN = f"127.0.0.1:{DEFAULT_PORT}"


class ListenError(ValueError):
    """A --listen value that cannot be used: the message says why, in one line."""


@dataclass(frozen=True, slots=True)
class Listen:
    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_listen(text: str) -> Listen:
    """``ADDR:PORT``, ``[IPV6]:PORT`` or ``:PORT`` (every IPv4 address, as node_exporter's ``:9100``)."""
    example = f"for example --listen {DEFAULT_LISTEN}, [::1]:{DEFAULT_PORT} or :{DEFAULT_PORT}"
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or not rest.startswith(":"):
            raise ListenError(f"--listen {text}: expected [IPV6]:PORT, {example}")
        port_text = rest[1:]
    else:
        host, sep, port_text = text.rpartition(":")
        if not sep:
            raise ListenError(f"--listen {text}: expected ADDR:PORT, {example}")
        if ":" in host:
            raise ListenError(f"--listen {text}: an IPv6 address goes in brackets, [{host}]:{port_text}")
        host = host or "0.0.0.0"
    if not host or any(c.isspace() for c in host):
        raise ListenError(f"--listen {text}: no address, {example}")
    if not (port_text.isascii() and port_text.isdecimal()) or int(port_text) > 65535:
        raise ListenError(f"--listen {text}: the port must be a number from 0 to 65535 (0: any free port)")
    return Listen(host, int(port_text))


def bind(listen: Listen, registry: CollectorRegistry) -> tuple[WSGIServer, Listen]:
    """Start prometheus_client's HTTP server (its own threads) on ``listen``; the address it got.

    Raises:
        ListenError: the address does not resolve, is not this machine's,
            is in use, or needs a privilege memtop lacks.
    """
    from prometheus_client import start_wsgi_server

    try:
        server, _thread = start_wsgi_server(listen.port, listen.host, registry)
    except socket.gaierror as exc:
        raise ListenError(f"--listen {listen}: cannot resolve {listen.host!r} ({exc.strerror})") from None
    except OSError as exc:
        raise ListenError(f"--listen {listen}: {_why(exc, listen)}") from None
    host, port = server.socket.getsockname()[:2]
    return server, Listen(host, port)


def _why(exc: OSError, listen: Listen) -> str:
    if exc.errno == errno.EADDRINUSE:
        return (f"port {listen.port} is in use on {listen.host} (another memtop serve or exporter?); "
                "choose another with --listen ADDR:PORT")
    if exc.errno == errno.EACCES:
        return (f"binding port {listen.port} is not permitted: ports below 1024 need root or "
                "CAP_NET_BIND_SERVICE; choose a port from 1024 up")
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"{listen.host} is not an address of this machine"
    return exc.strerror or str(exc)
