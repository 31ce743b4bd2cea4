"""A throwaway Mosquitto broker on 127.0.0.1 for tests and the fleet bench.

Debian's `mosquitto` binary with a generated config: one listener on loopback only (never the
LAN), a free port, persistence in its own directory (so a restart keeps QoS 1 sessions and
their queued messages, as a real broker with `persistence true` does), optional password file.
`restart()` stops it with SIGTERM (Mosquitto saves its database) and starts it again on the
same port, which is how the bench and the tests take the broker away and bring it back.
"""

from __future__ import annotations

import getpass
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

MOSQUITTO_PATHS = ("mosquitto", "/usr/sbin/mosquitto")


def find_mosquitto() -> str | None:
    for name in MOSQUITTO_PATHS:
        found = shutil.which(name)
        if found:
            return found
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_test_certificates(where: Path) -> tuple[Path, Path, Path]:
    """(ca.pem, server.pem, server.key): a CA valid for 2 days and a server certificate it signed
    for IP 127.0.0.1, so a client that checks the host name accepts the loopback broker."""
    where.mkdir(parents=True, exist_ok=True)
    ca, ca_key, cert, key = (where / n for n in ("ca.pem", "ca.key", "server.pem", "server.key"))
    (where / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    for args in (
        ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca, "-days", "2",
         "-subj", "/CN=stretchstep test CA"],
        ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", where / "server.csr",
         "-subj", "/CN=127.0.0.1"],
        ["x509", "-req", "-in", where / "server.csr", "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
         "-out", cert, "-days", "2", "-extfile", where / "san.ext"],
    ):
        subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True)
    return ca, cert, key


class Mosquitto:
    """`with Mosquitto(tmp) as broker:` -> broker.port; `users={"name": "password"}` needs a login."""

    def __init__(self, workdir: Path, *, port: int | None = None,
                 users: dict[str, str] | None = None, tls: bool = False) -> None:
        binary = find_mosquitto()
        if binary is None:
            raise FileNotFoundError("mosquitto is not installed (Debian: apt-get install mosquitto)")
        self.binary = binary
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.log = self.workdir / "mosquitto.log"
        self.conf = self.workdir / "mosquitto.conf"
        # `user`: run as root (CI), Mosquitto would drop to user "mosquitto", which cannot read
        # this directory; as anyone else the option changes nothing
        lines = [f"listener {self.port} 127.0.0.1", f"user {getpass.getuser()}", "persistence true",
                 f"persistence_location {self.workdir}/", "autosave_interval 1",
                 f"log_dest file {self.log}", "log_type error", "log_type warning", "log_type notice"]
        self.ca_file: Path | None = None
        if tls:  # a throwaway CA and a server certificate for 127.0.0.1 (openssl)
            self.ca_file, cert, key = make_test_certificates(self.workdir / "tls")
            lines += [f"cafile {self.ca_file}", f"certfile {cert}", f"keyfile {key}"]
        if users:
            passwd = self.workdir / "passwd"
            passwd.write_text("")
            for name, password in users.items():
                subprocess.run(["mosquitto_passwd", "-b", str(passwd), name, password], check=True,
                               capture_output=True)
            passwd.chmod(0o600)
            lines += [f"password_file {passwd}", "allow_anonymous false"]
        else:
            lines.append("allow_anonymous true")
        self.conf.write_text("\n".join(lines) + "\n")
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 10.0) -> Mosquitto:
        self.proc = subprocess.Popen([self.binary, "-c", str(self.conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise RuntimeError(f"mosquitto exited at start: {err.strip()} {self._log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not listen on 127.0.0.1:{self.port} within {timeout:g} s")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def restart(self, down_s: float = 0.0) -> None:
        self.stop()
        if down_s > 0:
            time.sleep(down_s)
        self.start()

    def _log_tail(self) -> str:
        return self.log.read_text()[-500:] if self.log.exists() else ""

    def __enter__(self) -> Mosquitto:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
