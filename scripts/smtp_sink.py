#!/usr/bin/python3
"""SMTP sink for the local run and the tests: accepts every message on 127.0.0.1:<port> and keeps it.

Each message becomes one JSON file <maildir>/<timestamp>-<n>.json with the fields
mail_from, rcpt_tos (list), data (the raw message, decoded as UTF-8 with replacement) and received_at
(ISO 8601, UTC). The file is written under a temporary name and renamed, so a reader that lists *.json
never sees a partial message. Plain SMTP only: STARTTLS is not offered, so clients send in clear text.

Usage: smtp_sink.py --port N --maildir DIR [--pidfile FILE] [--host 127.0.0.1]
Started in the background by scripts/stack.sh; stops on SIGTERM or SIGINT.
Written for Debian 12's python3-aiosmtpd (1.4).
"""

import argparse
import asyncio
import datetime
import itertools
import json
import os
import signal
import sys

from aiosmtpd.smtp import SMTP


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
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "data": content,
            "received_at": now.isoformat(timespec="microseconds").replace("+00:00", "Z"),
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
    args = parser.parse_args()

    os.makedirs(args.maildir, exist_ok=True)
    handler = maildir_handler(args.maildir)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    def factory():
        # A fixed hostname: the default asks the resolver for the FQDN, which can stall on a test box.
        return SMTP(handler, hostname="mb-smtp-sink", decode_data=False, enable_SMTPUTF8=True)

    try:
        server = loop.run_until_complete(loop.create_server(factory, host=args.host, port=args.port))
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
