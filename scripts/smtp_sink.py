#!/usr/bin/python3
"""SMTP sink for the local run and the tests: accepts every message on 127.0.0.1:<port> and keeps it.

Each message becomes one JSON file <maildir>/<timestamp>-<n>.json with the fields
mail_from, rcpt_tos (list), data (the raw message, decoded as UTF-8 with replacement) and received_at
(ISO 8601, UTC), and how the session went: tls (true when the message came over TLS), tls_version, and
auth_user (the user that authenticated, or null). The file is written under a temporary name and renamed,
so a reader that lists *.json never sees a partial message.

By default plain SMTP only: STARTTLS is not offered, so clients send in clear text. For tests of the
client's TLS and authentication:
  --tls-cert FILE --tls-key FILE   offer STARTTLS with this PEM certificate and key, or, with
  --implicit-tls                   speak TLS from the first byte (smtps://) instead;
  --auth USER:PASSWORD             offer AUTH PLAIN and LOGIN (only once the session is encrypted, unless
  --auth-in-clear                  is given) and accept only this pair.
Every connection, lost connection and AUTH attempt is printed (never the password), so a test reading
the output can tell what a client did even when no message arrived.

Usage: smtp_sink.py --port N --maildir DIR [--pidfile FILE] [--host 127.0.0.1] [TLS and AUTH options]
Started in the background by scripts/stack.sh (plain) or by a test; stops on SIGTERM or SIGINT.
Written for Debian 12's python3-aiosmtpd (1.4).
"""

import argparse
import asyncio
import datetime
import itertools
import json
import os
import signal
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class maildir_handler:
    """aiosmtpd handler: every DATA is stored as one JSON file, then acknowledged."""

    def __init__(self, maildir):
        self.maildir = maildir
        self.counter = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        now = datetime.datetime.now(datetime.timezone.utc)
        n = next(self.counter)
        content = envelope.content
        if isinstance(content, bytes):
            # Mail may be 8-bit; JSON needs text. Replacement keeps the file valid for any input.
            content = content.decode("utf-8", errors="replace")
        # After STARTTLS the server's transport is the TLS one; with implicit TLS it always was.
        tls = server.transport.get_extra_info("ssl_object") if server.transport else None
        auth_user = None
        if session.authenticated and isinstance(session.auth_data, LoginPassword):
            auth_user = session.auth_data.login.decode("utf-8", errors="replace")
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "data": content,
            "received_at": now.isoformat(timespec="microseconds").replace("+00:00", "Z"),
            "tls": tls is not None,
            "tls_version": tls.version() if tls is not None else None,
            "auth_user": auth_user,
        }
        # The timestamp (microseconds) sorts chronologically; the counter keeps names unique.
        name = "{}-{:06d}.json".format(now.strftime("%Y%m%dT%H%M%S%fZ"), n)
        final_path = os.path.join(self.maildir, name)
        temp_path = os.path.join(self.maildir, "." + name + ".tmp")
        with open(temp_path, "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
        os.replace(temp_path, final_path)
        print("smtp_sink: stored {} from={} to={}".format(name, envelope.mail_from,
                                                           ",".join(envelope.rcpt_tos)), flush=True)
        return "250 Message accepted for delivery"


class checking_authenticator:
    """aiosmtpd authenticator accepting one user and password; logs every attempt without the password."""

    def __init__(self, user, password):
        self.user = user.encode("utf-8")
        self.password = password.encode("utf-8")

    def __call__(self, server, session, envelope, mechanism, auth_data):
        tls = server.transport.get_extra_info("ssl_object") is not None
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == self.user
              and auth_data.password == self.password)
        login = auth_data.login.decode("utf-8", errors="replace") if isinstance(auth_data, LoginPassword) else "?"
        print("smtp_sink: AUTH {} user={} tls={} ok={}".format(mechanism, login, tls, ok), flush=True)
        return AuthResult(success=ok, auth_data=auth_data)


class logging_smtp(SMTP):
    """aiosmtpd's SMTP, printing when a client connects and when its connection ends."""

    def connection_made(self, transport):
        first = self.transport is None
        super().connection_made(transport)
        if first:
            print("smtp_sink: connection from {}".format(self.session.peer), flush=True)

    def connection_lost(self, error):
        print("smtp_sink: connection lost", flush=True)
        super().connection_lost(error)


def write_pidfile(path):
    temp_path = path + ".tmp"
    with open(temp_path, "w", encoding="ascii") as f:
        f.write("{}\n".format(os.getpid()))
    os.replace(temp_path, path)


def main():
    parser = argparse.ArgumentParser(description="SMTP sink writing each message as a JSON file")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--maildir", required=True)
    parser.add_argument("--pidfile")
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--implicit-tls", action="store_true")
    parser.add_argument("--auth", metavar="USER:PASSWORD")
    parser.add_argument("--auth-in-clear", action="store_true")
    args = parser.parse_args()
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")
    if args.implicit_tls and not args.tls_cert:
        parser.error("--implicit-tls needs --tls-cert and --tls-key")

    tls_context = None
    if args.tls_cert:
        tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls_context.load_cert_chain(args.tls_cert, args.tls_key)
    authenticator = None
    if args.auth:
        user, sep, password = args.auth.partition(":")
        if not sep:
            parser.error("--auth takes USER:PASSWORD")
        authenticator = checking_authenticator(user, password)

    os.makedirs(args.maildir, exist_ok=True)
    handler = maildir_handler(args.maildir)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    def factory():
        # A fixed hostname: the default asks the resolver for the FQDN, which can stall on a test box.
        options = dict(hostname="mb-smtp-sink", decode_data=False, enable_SMTPUTF8=True)
        if tls_context is not None and not args.implicit_tls:
            options["tls_context"] = tls_context
        if authenticator is not None:
            options["authenticator"] = authenticator
            # aiosmtpd counts only STARTTLS as encryption: an implicit-TLS session is encrypted already.
            options["auth_require_tls"] = not (args.auth_in_clear or args.implicit_tls)
        return logging_smtp(handler, **options)

    try:
        server = loop.run_until_complete(loop.create_server(
            factory, host=args.host, port=args.port, ssl=tls_context if args.implicit_tls else None))
    except OSError as e:
        print("smtp_sink: cannot listen on {}:{}: {}".format(args.host, args.port, e), file=sys.stderr)
        return 1

    # The pidfile appears only once the port is bound, so stack.sh can treat it as "started".
    if args.pidfile:
        write_pidfile(args.pidfile)
    print("smtp_sink: listening on {}:{}, maildir {}".format(args.host, args.port, args.maildir), flush=True)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, loop.stop)
    try:
        loop.run_forever()
    finally:
        server.close()
        loop.run_until_complete(server.wait_closed())
        loop.close()
        if args.pidfile:
            try:
                os.unlink(args.pidfile)
            except FileNotFoundError:
                pass
    print("smtp_sink: stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
