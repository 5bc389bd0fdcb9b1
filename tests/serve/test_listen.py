"""The server's listening socket: a clear error for a taken port; TCP, so that asyncio turns
Nagle's algorithm off (else each answer waits ~40 ms for a delayed ACK)."""

import socket

import pytest

from deepres.serve import listen


def test_listen_on_a_free_port_and_refuse_a_taken_one():
    sock = listen("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
        port = sock.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass  # listening already, before any server runs
        with pytest.raises(ValueError, match=f"cannot listen on 127.0.0.1:{port}: .*--port"):
            listen("127.0.0.1", port)
    finally:
        sock.close()
