"""--listen: what it accepts, and one plain line for every way binding fails."""

from __future__ import annotations

import socket
import urllib.request
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry

from memtop.export.listen import DEFAULT_LISTEN, Listen, ListenError, bind, parse_listen


@pytest.mark.parametrize(("text", "listen"), [
    (DEFAULT_LISTEN, Listen("127.0.0.1", 9632)),
    (":9100", Listen("0.0.0.0", 9100)),
    ("[::1]:9632", Listen("::1", 9632)),
    ("localhost:0", Listen("localhost", 0)),
])
def test_listen_values(text: str, listen: Listen) -> None:
    assert parse_listen(text) == listen


@pytest.mark.parametrize(("text", "says"), [
    ("9632", "expected ADDR:PORT"),
    ("127.0.0.1", "expected ADDR:PORT"),
    ("127.0.0.1:", "must be a number"),
    ("127.0.0.1:http", "must be a number"),
    ("127.0.0.1:70000", "must be a number"),
    ("127.0.0.1:-1", "must be a number"),
    ("::1:9632", "in brackets"),
    ("[::1]9632", r"expected \[IPV6\]:PORT"),
    ("[::1", r"expected \[IPV6\]:PORT"),
    ("[]:9632", "no address"),
    ("a b:9632", "no address"),
])
def test_bad_listen_values_say_why_in_one_line(text: str, says: str) -> None:
    with pytest.raises(ListenError, match=says) as caught:
        parse_listen(text)
    assert "\n" not in str(caught.value)


@pytest.fixture
def occupied() -> Iterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    yield sock.getsockname()[1]
    sock.close()


def test_a_port_in_use_is_named(occupied: int) -> None:
    with pytest.raises(ListenError, match=f"port {occupied} is in use"):
        bind(Listen("127.0.0.1", occupied), CollectorRegistry())


@pytest.mark.parametrize(("host", "says"), [("192.0.2.1", "not an address of this machine"),
                                            ("no-such-host.invalid", "cannot resolve")])
def test_an_address_that_is_not_ours(host: str, says: str) -> None:
    with pytest.raises(ListenError, match=says):
        bind(Listen(host, 0), CollectorRegistry())


def test_port_zero_binds_a_free_port_and_serves() -> None:
    server, bound = bind(Listen("127.0.0.1", 0), CollectorRegistry())
    try:
        assert bound.host == "127.0.0.1" and bound.port > 0
        with urllib.request.urlopen(f"http://{bound}/metrics", timeout=5) as answer:
            assert answer.status == 200
    finally:
        server.shutdown()
        server.server_close()
