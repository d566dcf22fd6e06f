"""A real, throw-away IMAP server for the demo and the tests: Debian's Dovecot on a loopback port.

Everything lives in a temporary folder: the configuration, a passwd-file with
one user per mailbox and the Maildirs. Dovecot starts in the foreground as a
child process; when the tests run as root its mail processes run as
``nobody`` (Dovecot refuses root for mail), otherwise as the current user.
Nothing is mocked: the demo and the tests talk IMAP over TCP on 127.0.0.1.
``scripts/apt-install.sh dovecot-imapd`` installs the package (``scripts/test.sh`` calls it).
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

DOVECOT = "/usr/sbin/dovecot"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ImapServer:
    """Start with :meth:`start`, stop with :meth:`stop`; :meth:`add_user` makes a mailbox."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="rc-imap-"))
        self.port = _free_port()
        self.host = "127.0.0.1"
        self.proc: subprocess.Popen[bytes] | None = None
        self.users: list[str] = []
        if os.geteuid() == 0:
            self.mail_user = pwd.getpwnam("nobody")
            self.service_user = "dovenull" if _user_exists("dovenull") else "nobody"
            self.internal_user = "dovecot" if _user_exists("dovecot") else "nobody"
        else:
            self.mail_user = pwd.getpwuid(os.geteuid())
            self.service_user = self.internal_user = self.mail_user.pw_name

    @staticmethod
    def available() -> bool:
        return Path(DOVECOT).exists() and Path("/usr/lib/dovecot/imap").exists()

    def _config(self) -> str:
        d = self.dir
        return f"""
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
info_log_path = {d}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {self.internal_user}
default_internal_group = {grp.getgrgid(pwd.getpwnam(self.internal_user).pw_gid).gr_name}
default_login_user = {self.service_user}
first_valid_uid = {min(self.mail_user.pw_uid, 500)}
mail_location = maildir:{d}/mail/%u/Maildir
mail_uid = {self.mail_user.pw_uid}
mail_gid = {self.mail_user.pw_gid}
namespace inbox {{
  inbox = yes
  separator = /
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/passwd
}}
userdb {{
  driver = static
  args = uid={self.mail_user.pw_uid} gid={self.mail_user.pw_gid} home={d}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""

    def start(self) -> ImapServer:
        (self.dir / "mail").mkdir()
        (self.dir / "passwd").touch()
        conf = self.dir / "dovecot.conf"
        conf.write_text(self._config())
        if os.geteuid() == 0:
            shutil.chown(self.dir / "mail", self.mail_user.pw_uid, self.mail_user.pw_gid)
            os.chmod(self.dir, 0o755)
        self.proc = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"dovecot exited: {self.proc.stderr.read().decode()[-2000:]}\n{self.log()}"
                )
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as s:
                    if s.recv(200).startswith(b"* OK"):
                        return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"dovecot did not answer on port {self.port}:\n{self.log()}")

    def log(self) -> str:
        try:
            return (self.dir / "dovecot.log").read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def add_user(self, user: str, password: str) -> None:
        """A mailbox ``user`` with ``password`` (plain, in the passwd-file; add them before :meth:`start`)."""
        with (self.dir / "passwd").open("a") as f:
            f.write(f"{user}:{{PLAIN}}{password}::::::\n")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
