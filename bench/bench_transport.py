"""Transport costs, measured side by side on loopback: CurveZMQ vs NULL, the broker under attack, TLS handshakes.

1. CURVE vs NULL throughput of 1 KiB messages between two processes (PUSH -> PULL, so nothing is dropped and
   the figure is the mechanism's cost). Target ratio CURVE/NULL >= 0.5.
2. Allowed-client throughput through the reference broker (publisher process -> broker -> subscriber process),
   unloaded and while 50 unauthenticated clients (NULL and unlisted CURVE keys, each reconnecting about every
   50 ms) hammer it from a third process. Target ratio loaded/unloaded >= 0.8. Timing starts only once the
   subscriber receives the publisher's warm-up messages (its subscription is in force at the broker), and the
   CPU seconds of the attacking process and of the broker's threads are printed, so a ratio can be traced to
   where the flood's CPU went (on a two-core machine the attacker's own process competes for the same cores).
3. TLS 1.3 full handshakes per second against a server in another process (ECDSA P-256 certificates), with and
   without a client certificate.

Helpers run as ``python bench_transport.py --role NAME`` child processes; their configuration (including
throw-away keys) arrives on stdin, never on the command line. Printed figures are ratios; never asserted.
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import zmq
from zmq.utils.monitor import recv_monitor_message

MESSAGE = 1024
DIRECT_N = 60_000
BROKER_N = 30_000
HAMMERERS = 50
HANDSHAKES = 200
ROUNDS = 3
SUBSCRIBE_WAIT_S = 30


# ---------------------------------------------------------------- child roles ---------------------------------
def _secure(sock: zmq.Socket[bytes], cfg: dict[str, Any]) -> None:
    if cfg.get("mech") == "curve":
        sock.curve_publickey = cfg["public"].encode()
        sock.curve_secretkey = cfg["secret"].encode()
        sock.curve_serverkey = cfg["server"].encode()


def _wait_handshake(sock: zmq.Socket[bytes], timeout: float = 10.0) -> None:
    monitor = sock.get_monitor_socket(zmq.EVENT_HANDSHAKE_SUCCEEDED)
    if monitor.poll(int(timeout * 1000)):
        recv_monitor_message(monitor)
    sock.disable_monitor()
    monitor.close(0)


def role_sink(cfg: dict[str, Any]) -> None:
    """Receive until ``n`` messages or ``idle`` seconds of silence; print the rate from first to last."""
    ctx: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
    sock = ctx.socket(zmq.PULL if cfg["kind"] == "pull" else zmq.SUB)
    sock.rcvhwm = 0
    _secure(sock, cfg)
    if cfg["kind"] == "sub":
        sock.setsockopt(zmq.SUBSCRIBE, b"bench.")
    if cfg.get("bind"):
        sock.bind(cfg["endpoint"])
    else:
        sock.connect(cfg["endpoint"])
        _wait_handshake(sock)
    print("ready", flush=True)
    if cfg["kind"] == "sub":  # timed messages start only once the broker has applied our subscription
        subscribed = sock.poll(SUBSCRIBE_WAIT_S * 1000) and sock.recv_multipart()[0] == b"bench.warm"
        print("subscribed" if subscribed else "never-subscribed", flush=True)
    received, first, last = 0, 0.0, 0.0
    while received < cfg["n"] and sock.poll(int(cfg["idle"] * 1000)):
        if sock.recv_multipart()[0] == b"bench.warm":
            continue  # warm-up messages still in flight
        last = time.perf_counter()
        first = first or last
        received += 1
    print(json.dumps({"received": received, "seconds": max(last - first, 1e-9)}), flush=True)
    sock.close(0)
    ctx.term()


def role_source(cfg: dict[str, Any]) -> None:
    ctx: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
    sock = ctx.socket(zmq.PUSH if cfg["kind"] == "push" else zmq.PUB)
    sock.sndhwm = 0
    sock.linger = 5000
    _secure(sock, cfg)
    sock.connect(cfg["endpoint"])
    _wait_handshake(sock)
    if cfg["kind"] == "pub":  # warm-up messages until the orchestrator says the subscriber receives them
        go = threading.Event()

        def wait_for_go() -> None:
            sys.stdin.readline()
            go.set()

        threading.Thread(target=wait_for_go, daemon=True).start()
        while not go.wait(0.02):
            sock.send_multipart([b"bench.warm", b""])
    payload = os.urandom(MESSAGE)
    for _ in range(cfg["n"]):
        sock.send_multipart([b"bench.load", payload])
    sock.close()
    ctx.term()


def _intruder(ctx: zmq.Context[zmq.Socket[bytes]], i: int, cfg: dict[str, Any]) -> zmq.Socket[bytes]:
    kind = zmq.SUB if i % 2 else zmq.PUB
    sock = ctx.socket(kind)
    sock.linger = 0
    if i % 4 in (2, 3):  # half present an unlisted CURVE key, half speak NULL
        public, secret = zmq.curve_keypair()
        sock.curve_publickey, sock.curve_secretkey = public, secret
        sock.curve_serverkey = cfg["server"].encode()
    sock.connect(cfg["publish"] if kind == zmq.PUB else cfg["subscribe"])
    return sock


def role_hammer(cfg: dict[str, Any]) -> None:
    """``count`` unauthenticated clients, each replaced by a fresh connection as soon as the next round comes
    (libzmq stops retrying after a refused handshake, so the hammer reconnects itself) until stdin closes."""
    done = threading.Event()

    def wait_for_stdin_to_close() -> None:
        sys.stdin.read()
        done.set()

    threading.Thread(target=wait_for_stdin_to_close, daemon=True).start()
    ctx: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
    socks = [_intruder(ctx, i, cfg) for i in range(cfg["count"])]
    print("ready", flush=True)
    while not done.is_set():
        for i in range(len(socks)):
            socks[i].close(0)
            socks[i] = _intruder(ctx, i, cfg)
            time.sleep(0.001)
    for sock in socks:
        sock.close(0)
    ctx.term()


def role_tls_server(cfg: dict[str, Any]) -> None:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(cfg["cert"], cfg["key"])
    if cfg.get("client_ca"):
        ctx.load_verify_locations(cfg["client_ca"])
        ctx.verify_mode = ssl.CERT_REQUIRED
    listener = socket.create_server(("127.0.0.1", 0))
    print(listener.getsockname()[1], flush=True)
    listener.settimeout(10)
    for _ in range(cfg["n"]):
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        try:
            with ctx.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1)  # the client's close_notify; completes the server side of the handshake too
        except (ssl.SSLError, OSError):
            pass


ROLES = {"sink": role_sink, "source": role_source, "hammer": role_hammer, "tls-server": role_tls_server}


# ---------------------------------------------------------------- orchestration -------------------------------
def _spawn(role: str, cfg: dict[str, Any], *, keep_stdin: bool = False) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, __file__, "--role", role], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdin is not None
    proc.stdin.write(json.dumps(cfg) + "\n")
    proc.stdin.flush()
    if not keep_stdin:
        proc.stdin.close()
    return proc


def _line(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    return proc.stdout.readline().strip()


def _keys() -> dict[str, str]:
    public, secret = zmq.curve_keypair()
    return {"public": public.decode(), "secret": secret.decode()}


def direct_rate(mech: str) -> float:
    """PUSH (this process) -> PULL (child process), messages per second."""
    server, client = _keys(), _keys()
    ctx: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
    push = ctx.socket(zmq.PUSH)
    push.sndhwm = 0
    if mech == "curve":
        push.curve_server = True
        push.curve_secretkey = server["secret"].encode()
        push.curve_publickey = server["public"].encode()
    push.bind("tcp://127.0.0.1:*")
    endpoint = push.getsockopt_string(zmq.LAST_ENDPOINT)
    sink = _spawn("sink", {"kind": "pull", "mech": mech, "endpoint": endpoint, "n": DIRECT_N, "idle": 5.0,
                           "server": server["public"], **client})
    _line(sink)  # ready
    payload = os.urandom(MESSAGE)
    for _ in range(DIRECT_N):
        push.send(payload)
    result = json.loads(_line(sink))
    sink.wait(30)
    push.close(0)
    ctx.term()
    return float(result["received"]) / float(result["seconds"])


def _thread_cpu() -> dict[str, float]:
    """CPU seconds of each thread of this process (the broker's: its relay loop, ZAP and libzmq I/O threads)."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[str, float] = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            name = Path(f"/proc/self/task/{tid}/comm").read_text().strip()
            fields = Path(f"/proc/self/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        kind = "libzmq I/O" if name.startswith("ZMQbg/IO") else name
        out[kind] = out.get(kind, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return out


def broker_rate(broker: Any, pub_creds: Any, sub_creds: Any, hammered: bool) -> dict[str, Any]:
    """Publisher process -> reference broker -> subscriber process: msg/s, messages received, refused
    handshakes, the hammer's CPU seconds and the CPU seconds of this process's threads during the run."""
    server = broker.server_keys.public.decode()
    hammer = None
    threads_before = _thread_cpu()
    if hammered:
        hammer = _spawn("hammer", {"count": HAMMERERS, "publish": broker.publish_endpoint,
                                   "subscribe": broker.subscribe_endpoint, "server": server}, keep_stdin=True)
        _line(hammer)
        time.sleep(1.0)  # let the reconnect storm build up
    failures_before = broker.stats.auth_failures
    began = time.perf_counter()
    sink = _spawn("sink", {"kind": "sub", "mech": "curve", "endpoint": broker.subscribe_endpoint, "n": BROKER_N,
                           "idle": 3.0, "server": server, "public": sub_creds[1].public.decode(),
                           "secret": sub_creds[1].secret.reveal().decode()})
    _line(sink)
    source = _spawn("source", {"kind": "pub", "mech": "curve", "endpoint": broker.publish_endpoint, "n": BROKER_N,
                               "server": server, "public": pub_creds[1].public.decode(),
                               "secret": pub_creds[1].secret.reveal().decode()}, keep_stdin=True)
    subscribed = _line(sink)
    assert source.stdin is not None
    source.stdin.write("go\n")
    source.stdin.close()
    if subscribed != "subscribed":
        raise RuntimeError(f"the subscriber never received a warm-up message within {SUBSCRIBE_WAIT_S} s")
    result = json.loads(_line(sink))
    source.wait(60)
    sink.wait(30)
    seconds = time.perf_counter() - began
    failures = broker.stats.auth_failures - failures_before
    hammer_cpu = 0.0
    if hammer is not None:
        assert hammer.stdin is not None
        hammer.stdin.close()
        _pid, _status, usage = os.wait4(hammer.pid, 0)
        hammer.returncode = 0
        hammer_cpu = usage.ru_utime + usage.ru_stime
    threads_after = _thread_cpu()
    threads = {k: v - threads_before.get(k, 0.0) for k, v in threads_after.items()}
    return {"rate": float(result["received"]) / float(result["seconds"]), "received": int(result["received"]),
            "failures": failures, "failures_per_s": failures / seconds, "hammer_cpu": hammer_cpu,
            "threads": threads}


def handshake_rate(tmp: Path, mutual: bool) -> float:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from aico_secure.transport.tls import client_context, new_ca, write_identity

    ca = new_ca("bench-ca")
    ca_path = ca.write_cert(tmp)
    cert, key = write_identity(ca.issue("bench-server"), tmp, "server")
    ccert, ckey = write_identity(ca.issue("bench-client", client=True), tmp, "client")
    server = _spawn("tls-server", {"cert": str(cert), "key": str(key), "n": HANDSHAKES,
                                   "client_ca": str(ca_path) if mutual else None})
    port = int(_line(server))
    ctx = client_context(ca_path, cert_path=ccert if mutual else None, key_path=ckey if mutual else None)
    start = time.perf_counter()
    for _ in range(HANDSHAKES):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, \
                ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            assert tls.version() == "TLSv1.3"
    elapsed = time.perf_counter() - start
    server.wait(30)
    return HANDSHAKES / elapsed


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from aico_secure.transport.bus import Broker, BrokerConfig

    # Rounds alternate the variants so drifting machine load hits both alike; medians are printed.
    direct: dict[str, list[float]] = {"null": [], "curve": []}
    for _ in range(ROUNDS):
        for mech in direct:
            direct[mech].append(direct_rate(mech))
    null, curve = statistics.median(direct["null"]), statistics.median(direct["curve"])
    print(f"1 KiB PUSH->PULL, two processes (median of {ROUNDS}): NULL {null:,.0f} msg/s, CURVE {curve:,.0f} msg/s")
    print(f"  ratio CURVE/NULL = {curve / null:.2f} (target >= 0.5)")

    with tempfile.TemporaryDirectory(prefix="aico-bench-") as tmp:
        io_threads = int(os.environ.get("AICO_BENCH_BUS_IO_THREADS", "1"))
        with Broker.start(BrokerConfig(Path(tmp) / "bus", io_threads=io_threads)) as broker:
            pub = broker.enroll("bench-pub", publish=["bench."])
            sub = broker.enroll("bench-sub", subscribe=["bench."])
            quiet_runs, loud_runs = [], []
            for _ in range(ROUNDS):
                quiet_runs.append(broker_rate(broker, pub, sub, hammered=False))
                loud_runs.append(broker_rate(broker, pub, sub, hammered=True))
        quiet = statistics.median(r["rate"] for r in quiet_runs)
        loud = statistics.median(r["rate"] for r in loud_runs)
        delivered = min(r["received"] for r in quiet_runs + loud_runs)
        failures = sum(r["failures"] for r in loud_runs)
        print(f"broker path, 1 KiB, CURVE, {io_threads} libzmq I/O thread(s) (median of {ROUNDS}): unloaded "
              f"{quiet:,.0f} msg/s; with {HAMMERERS} "
              f"unauthenticated clients {loud:,.0f} msg/s ({failures} refused handshakes during the loaded runs, "
              f"{statistics.median(r['failures_per_s'] for r in loud_runs):,.0f}/s; at least "
              f"{delivered}/{BROKER_N} messages delivered per run)")
        ratios = sorted(r["rate"] / quiet for r in loud_runs)
        print(f"  ratio loaded/unloaded = {loud / quiet:.2f} (target >= 0.8; each loaded run against the unloaded "
              f"median: {', '.join(f'{x:.2f}' for x in ratios)})")
        print(f"  ratio broker path/direct CURVE = {quiet / curve:.2f}")
        # Where the flood's CPU goes: the attacker's own process, and each thread of the broker's process.
        kinds = sorted({k for r in quiet_runs + loud_runs for k in r["threads"]})
        per_thread = {k: (statistics.median(r["threads"].get(k, 0.0) for r in quiet_runs),
                          statistics.median(r["threads"].get(k, 0.0) for r in loud_runs)) for k in kinds}
        shown = ", ".join(f"{k} {q:.2f} -> {lo:.2f}" for k, (q, lo) in per_thread.items() if max(q, lo) >= 0.01)
        print(f"  CPU seconds per run, unloaded -> loaded (medians): broker process threads: {shown}; "
              f"the attacking process {statistics.median(r['hammer_cpu'] for r in loud_runs):.2f}")
        extra = sum(lo - q for q, lo in per_thread.values())
        per_refusal = extra / max(1.0, statistics.median(r["failures"] for r in loud_runs))
        print(f"  broker CPU per refused handshake: {per_refusal * 1e6:,.0f} us")

        server_only = handshake_rate(Path(tmp) / "tls1", mutual=False)
        mutual = handshake_rate(Path(tmp) / "tls2", mutual=True)
        print(f"TLS 1.3 full handshakes (P-256, {HANDSHAKES} each): server-auth {server_only:,.0f}/s, "
              f"mutual {mutual:,.0f}/s")
        print(f"  ratio mutual/server-auth = {mutual / server_only:.2f}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--role":
        ROLES[sys.argv[2]](json.loads(sys.stdin.readline()))
    else:
        main()
