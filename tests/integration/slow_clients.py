#!/usr/bin/env python3
"""Slow HTTP clients for the grey-exporter test (tests/integration/ledger_tests.sh).

    slow_clients.py PORT N SECONDS

Opens N connections to 127.0.0.1:PORT and sends on each a request one byte a second, a request
whose head cannot end within SECONDS (the trickle that once blocked every scrape). Prints
"connected N" once all are open, then after SECONDS "open K": the connections the server had
neither closed nor answered, i.e. that were still being held while the test scraped. Exits 0;
1 when it could not connect them all.
"""
import socket
import sys
import time


def main():
    port, n, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    # A header line longer than SECONDS bytes: the head is still unfinished at the end.
    request = b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * int(seconds * 4 + 64)
    socks = []
    try:
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.setblocking(False)
            socks.append(s)
    except OSError as e:
        print("connected %d (%s)" % (len(socks), e), flush=True)
        return 1
    print("connected %d" % len(socks), flush=True)
    alive = set(range(n))
    start = time.monotonic()
    pos = 0
    while time.monotonic() - start < seconds:
        for i in list(alive):
            try:
                socks[i].send(request[pos:pos + 1])
            except OSError:
                alive.discard(i)
        pos += 1
        time.sleep(1)
    still_open = 0
    for i in alive:
        try:
            if socks[i].recv(1) == b"":
                continue  # closed by the server
        except BlockingIOError:
            still_open += 1  # nothing to read: held, unanswered
        except OSError:
            pass
    for s in socks:
        s.close()
    print("open %d" % still_open, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
