#!/usr/bin/python3
"""A real SMTP server for the mail contract test (aiosmtpd, Debian's python3-aiosmtpd).

Usage: smtp_server.py OUTDIR USER PASSWORD
Listens on 127.0.0.1 on a free port, prints the port on stdout, requires AUTH (PLAIN/LOGIN,
allowed without TLS on loopback) with USER/PASSWORD, and writes every accepted message as
OUTDIR/NNNNNN.eml (the DATA exactly as received) plus OUTDIR/NNNNNN.env (MAIL FROM, then each
RCPT TO, one per line), the .eml renamed into place before the 250 reply. Exits when stdin
closes, so it never outlives the test that started it.
"""
import logging
import os
import socket
import sys
import threading
import warnings

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Handler:
    def __init__(self, outdir):
        self.outdir = outdir
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            base = os.path.join(self.outdir, "%06d" % self.count)
        with open(base + ".env", "w") as f:
            f.write(envelope.mail_from + "\n" + "\n".join(envelope.rcpt_tos) + "\n")
        with open(base + ".tmp", "wb") as f:
            f.write(envelope.content)
        os.rename(base + ".tmp", base + ".eml")
        return "250 OK"


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    outdir, user, password = sys.argv[1], sys.argv[2].encode(), sys.argv[3].encode()

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == user
              and auth_data.password == password)
        return AuthResult(success=ok)

    # AUTH without TLS is fine on loopback, and what the test wants: keep its output quiet.
    warnings.filterwarnings("ignore")
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    port = free_port()
    controller = Controller(Handler(outdir), hostname="127.0.0.1", port=port,
                            authenticator=authenticator, auth_required=True,
                            auth_require_tls=False)
    controller.start()
    print(port, flush=True)
    try:
        sys.stdin.read()  # until the test closes the pipe (or dies)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
