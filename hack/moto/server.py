#!/usr/bin/env python3
"""The project's moto launcher: a local stand-in for AWS in tests and by hand.

    python3 hack/moto/server.py [PORT] [--stop-on-stdin-eof] [-v]

Starts moto's server on 127.0.0.1:PORT (0, the default, picks a free port),
prints exactly one line "READY <port>" on stdout once the server answers, and
runs until SIGTERM or SIGINT (or, with --stop-on-stdin-eof, until its stdin
closes, so a test harness that dies cannot leave it behind). --check only
reports whether moto is installed in the version the patches are written for
(exit 3 when not).

Before starting, it patches moto in-process where moto 5.2.1 does not behave
like AWS in ways that the AWS provider, the S3 backend or bootstrap itself
depend on. Each patch says which AWS behaviour it restores. The rule
(docs/layout.md, "Tests: the rule for moto"): make moto behave like AWS here, never bend the
Terraform root or the product to suit moto. Patched data comes from moto's
own backends, not from constants.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import urllib.request

import patches  # beside this file, which Python puts first on sys.path


# Exit code when moto is not installed in the supported version: the part is
# missing (tests skip, or fail in CI), rather than broken.
EXIT_MISSING = 3


def _answers(port: int) -> bool:
    """True once the server answers HTTP on the loopback port."""
    # Straight to the loopback port, whatever HTTP(S)_PROXY says.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"http://127.0.0.1:{port}/moto-api/data.json", timeout=5) as resp:
            return resp.status == 200
    except OSError:
        return False


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port", nargs="?", type=int, default=0,
                        help="TCP port on 127.0.0.1; 0 picks a free one")
    parser.add_argument("--stop-on-stdin-eof", action="store_true",
                        help="exit when standard input reaches end of file")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="log every request on stderr")
    parser.add_argument("--check", action="store_true",
                        help="only check that moto is installed in the version "
                             f"the patches are written for; exit {EXIT_MISSING} if not")
    args = parser.parse_args(argv)

    problem = patches.check()
    if problem:
        print(problem, file=sys.stderr)
        return EXIT_MISSING
    if args.check:
        return 0

    if not args.verbose:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)

    patches.apply()

    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=args.port, verbose=False)
    server.start()
    _, port = server.get_host_and_port()

    for _ in range(100):
        if _answers(port):
            break
    else:
        print(f"moto on port {port} does not answer", file=sys.stderr)
        server.stop()
        return 1

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if args.stop_on_stdin_eof:
        def _watch_stdin() -> None:
            while sys.stdin.buffer.read(4096):
                pass
            stop.set()
        threading.Thread(target=_watch_stdin, daemon=True).start()

    print(f"READY {port}", flush=True)
    while not stop.wait(1):
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
