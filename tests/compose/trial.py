#!/usr/bin/python3
"""What an operator does with a fresh docker-compose deployment, from the host (tests/compose/run.sh).

  trial.py first STATE   register through the proxy, verify through the mailed link, log in, make a home,
                         open live streams (through the proxy, and one straight to each gateway replica),
                         post a signed webhook to webhook-ingest, see the event on every stream and in
                         the history; write what the second run needs into STATE (JSON)
  trial.py again STATE   after `down` and `up`: the same user logs in and the event is still stored

Settings come from the environment run.sh sets: TRIAL_HTTP (the proxy's base URL), TRIAL_INGEST
(webhook-ingest's), TRIAL_WEBHOOK_URL and TRIAL_WEBHOOK_KEY_FILE (what the ingest checks signatures
against), TRIAL_GATEWAYS (space-separated addresses of the gateway replicas), TRIAL_MAIL_CONTAINER and
TRIAL_PG_CONTAINER (container ids, read with `docker exec`). Standard library only: the machines that run
the test have python3 but no WebSocket package.
"""

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

DOCKER = "/usr/bin/docker"
WAIT = 60.0  # seconds any one expected thing may take


def fail(msg):
    sys.exit(f"trial: FAILED: {msg}")


def eventually(what, probe, timeout=WAIT):
    """probe() until it returns something truthy; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            value = probe()
            if value:
                return value
        except Exception as e:  # noqa: BLE001 (any error means "not yet"; the last one is reported)
            last = e
        time.sleep(0.2)
    fail(f"{what} within {timeout:.0f}s" + (f" (last error: {last})" if last else ""))


def call(method, url, body=None, token=None, headers=None, raw=None):
    """(status, parsed JSON or None) of one HTTP request; HTTP errors are answers, not exceptions."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=15) as r:
            status, text = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read()
    try:
        return status, json.loads(text) if text else None
    except ValueError:
        return status, None


def expect(status, got, what):
    if got[0] != status:
        fail(f"{what}: expected HTTP {status}, got {got[0]} {got[1]}")
    return got[1]


def docker_exec(container, *cmd):
    return subprocess.run([DOCKER, "exec", container, *cmd], check=True, capture_output=True, text=True).stdout


class WebSocket:
    """A minimal RFC 6455 client: text frames in, pongs out; enough to follow a live stream."""

    def __init__(self, base_url, path, token):
        u = urllib.parse.urlsplit(base_url)
        self.sock = socket.create_connection((u.hostname, u.port or 80), timeout=WAIT)
        key = base64.b64encode(secrets.token_bytes(16)).decode()
        self.sock.sendall(
            (f"GET {path} HTTP/1.1\r\nHost: {u.netloc}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer {token}\r\n\r\n")
            .encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                fail(f"{base_url}{path}: connection closed during the upgrade")
            head += chunk
        head, self.buf = head.split(b"\r\n\r\n", 1)
        status = head.split(b"\r\n", 1)[0].decode()
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
        if " 101 " not in status + " " or accept not in head:
            fail(f"{base_url}{path}: no WebSocket upgrade: {head.decode(errors='replace')}")
        self.name = base_url

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                fail(f"stream via {self.name}: closed by the server")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _send(self, opcode, payload):
        mask = secrets.token_bytes(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(struct.pack("!BB", 0x80 | opcode, 0x80 | len(payload)) + mask + masked)

    def message(self, deadline):
        """The next text message, as parsed JSON; answers pings on the way."""
        while True:
            self.sock.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                b0, b1 = self._read(2)
            except socket.timeout:
                return None
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read(8))[0]
            payload = self._read(n)
            opcode = b0 & 0x0F
            if opcode == 0x9:
                self._send(0xA, payload)
            elif opcode == 0x8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                fail(f"stream via {self.name}: closed by the server with {code}")
            elif opcode == 0x1:
                return json.loads(payload)

    def wait_for(self, what, match):
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            m = self.message(deadline)
            if m is not None and match(m):
                return m
        fail(f"stream via {self.name}: no {what} within {WAIT:.0f}s")


def env(name):
    v = os.environ.get(name)
    if not v:
        fail(f"{name} is not set (run through tests/compose/run.sh)")
    return v


def verification_token(email):
    """The token of the verification link mailed to `email`, read from the mail sink's files."""
    def probe():
        out = docker_exec(env("TRIAL_MAIL_CONTAINER"), "sh", "-c",
                          'for f in /var/lib/mail-sink/*.json; do [ -e "$f" ] && cat "$f" && echo; done; true')
        for line in out.splitlines():
            mail = json.loads(line) if line.strip() else {"rcpt_tos": []}
            if email in mail["rcpt_tos"]:
                found = re.search(r"verify-email\?token=([A-Za-z0-9_-]+)", mail["data"].replace("=\r\n", "").replace("=3D", "="))
                if found:
                    return found.group(1)
        return None
    return eventually(f"a verification mail to {email}", probe)


def first(state_file):
    http, ingest = env("TRIAL_HTTP"), env("TRIAL_INGEST")
    email = f"trial-{secrets.token_hex(4)}@example.com"
    password = "correct horse battery " + secrets.token_hex(4)
    expect(201, call("POST", f"{http}/v1/auth/register", {"email": email, "password": password, "name": "Trial"}),
           "register")
    token = verification_token(email)
    expect(200, call("POST", f"{http}/v1/auth/verify-email", {"token": token}), "verify-email")
    # Each replica's numbers are for the scraper on the compose network, never for the public side.
    expect(404, call("GET", f"{http}/metrics"), "/metrics through the proxy")
    for gw in env("TRIAL_GATEWAYS").split():
        expect(200, call("GET", f"http://{gw}/metrics"), f"/metrics of the replica at {gw}")
    login = expect(200, call("POST", f"{http}/v1/auth/login", {"email": email, "password": password}), "login")
    session, user_id = login["token"], login["user"]["id"]
    # The MODE link may still be pending (503 MODE_LINK_PENDING): the background linker finishes it.
    home = eventually("POST /v1/homes answering 201", lambda: (
        lambda r: r[1] if r[0] == 201 else None)(call("POST", f"{http}/v1/homes", {"name": "Trial home"}, session)))
    home_id = home["id"]

    streams = [WebSocket(http, "/v1/events", session) for _ in range(2)]
    streams += [WebSocket(f"http://{gw}", "/v1/events", session) for gw in env("TRIAL_GATEWAYS").split()]
    for s in streams:
        s.wait_for("ready message following the home", lambda m: m.get("type") == "ready" and
                   home_id in m.get("homes", [home_id]))

    marker = secrets.token_hex(8)
    body = json.dumps({"eventType": "trial.ping", "homeId": home_id, "eventData": {"marker": marker},
                       "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                       "originDeviceId": 1, "originDeviceClass": "trial"}).encode()
    with open(env("TRIAL_WEBHOOK_KEY_FILE")) as f:
        key = f.read().strip()
    signature = hmac.new(key.encode(), env("TRIAL_WEBHOOK_URL").encode() + body, hashlib.sha256).hexdigest()
    expect(204, call("POST", f"{ingest}/v1/mode/events", raw=body, headers={"X-Mode-Signature": signature}),
           "signed webhook")
    expect(401, call("POST", f"{ingest}/v1/mode/events", raw=body, headers={"X-Mode-Signature": "0" * 64}),
           "webhook with a wrong signature")

    seqs = {s.wait_for("event of the webhook", lambda m: m.get("type") == "event" and
                       (m.get("eventData") or {}).get("marker") == marker)["seq"] for s in streams}
    if len(seqs) != 1:
        fail(f"the streams saw the event with different seq values: {seqs}")
    history = expect(200, call("GET", f"{http}/v1/homes/{home_id}/events", token=session), "event history")
    if not any((e.get("eventData") or {}).get("marker") == marker for e in history["events"]):
        fail(f"the event is not in the history: {history}")
    print(f"trial: user {user_id} got the event (seq {seqs.pop()}) on {len(streams)} streams "
          f"({len(streams) - 2} straight to replicas, 2 through the proxy) and in the history")
    with open(state_file, "w") as f:
        json.dump({"email": email, "password": password, "userId": user_id, "homeId": home_id,
                   "marker": marker}, f)


def again(state_file):
    with open(state_file) as f:
        st = json.load(f)
    http = env("TRIAL_HTTP")
    login = expect(200, call("POST", f"{http}/v1/auth/login", {"email": st["email"], "password": st["password"]}),
                   "login after down/up")
    me = expect(200, call("GET", f"{http}/v1/me", token=login["token"]), "GET /v1/me after down/up")
    if me["user"]["id"] != st["userId"]:
        fail(f"another user after down/up: {me}")
    # The emulator keeps MODE's side in memory only, so the gateway's history (which asks MODE who may read
    # it) cannot be asked after a restart of the trial; the store is read directly instead.
    count = docker_exec(env("TRIAL_PG_CONTAINER"), "psql", "-X", "-tA", "-U", "modebridge", "-d", "modebridge",
                        "-c", f"SELECT count(*) FROM events WHERE home_id = {int(st['homeId'])} "
                              f"AND payload LIKE '%{st['marker']}%'").strip()
    if count != "1":
        fail(f"the event stored before down/up is not in PostgreSQL (count {count!r})")
    print(f"trial: after down/up, user {st['userId']} logs in and the event is still stored")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("first", "again"):
        sys.exit(__doc__)
    {"first": first, "again": again}[sys.argv[1]](sys.argv[2])
