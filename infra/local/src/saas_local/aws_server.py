"""moto's ThreadedMotoServer in a process of its own: each local platform gets its own AWS state
(moto keeps its state per process), and moto's work runs beside the gateway and the pumps
instead of competing with them for one interpreter lock.

Protocol: prints one JSON line {"host", "port"} when serving; stops when stdin closes.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading


def _warm_up() -> None:
    # moto imports every service's models on the first CloudFormation call (seconds): do it now,
    # while the platform is still translating templates.
    import moto.cloudformation.parsing  # noqa: F401


def main() -> None:
    # Ctrl-C reaches the whole process group: the platform stops its children itself, in order.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    host, port = sys.argv[1], int(sys.argv[2])
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    bound_host, bound_port = server.get_host_and_port()
    threading.Thread(target=_warm_up, daemon=True).start()
    print(json.dumps({"host": bound_host, "port": bound_port}), flush=True)
    sys.stdin.read()  # until the parent closes the pipe (or dies)
    server.stop()


if __name__ == "__main__":
    main()
