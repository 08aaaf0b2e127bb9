"""The harness itself: a listener port taken by another process between
free_port() and the server's bind (other test runs share the machine) is
moved, and the server starts."""
import socket


def test_start_moves_a_taken_port(hermod_factory):
    h = hermod_factory(start=False)
    taken = h.port("smtp")
    blocker = socket.socket()
    blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    blocker.bind(("127.0.0.1", taken))
    blocker.listen()
    try:
        h.start()
        assert h.port("smtp") != taken
        with socket.create_connection(("127.0.0.1", h.port("smtp")), timeout=10) as c:
            assert c.recv(100).startswith(b"220 ")
    finally:
        blocker.close()
