"""The Twilio Conversations emulator from Python: start it, reset it, point `twilio` at it.

The wheel installs the emulator's binary as the `twilio-conversations-emulator` script;
this package starts it on a free loopback port, reads the address it announces, and
builds `twilio.rest.Client`s whose requests to Twilio's Conversations, Chat and Media
hosts go to it instead (`client.EmulatorHttpClient`). The pytest plugin (`pytest_plugin`)
is built on these. Only `client` and the plugin's client fixtures import `twilio`.
"""

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sysconfig
import tempfile
import threading
import urllib.request
from pathlib import Path

__all__ = ["Emulator", "binary_path", "new_account_sid", "TWILIO_HOSTS"]

BINARY_NAME = "twilio-conversations-emulator"

# The hosts whose API the emulator serves (with any edge and region the SDK puts in them,
# as in conversations.sydney.au1.twilio.com). The SDKs build absolute URLs on these, so a
# client rewrites each to the emulator's base URL. The Node package's rewrite.js has the
# same pattern.
TWILIO_HOSTS = re.compile(r"^https://(?:conversations|chat|mcs)(?:\.[a-z0-9-]+)*\.twilio\.com(?=/|\?|$)")

# The binary's documented readiness line on stdout (README, "Configuration": `--port`).
_LISTENING = re.compile(r"listening on (http://\S+)")


def new_account_sid():
    """A fresh account SID: in permissive mode every AC… SID is its own, empty tenant."""
    return "AC" + secrets.token_hex(16)


def binary_path():
    """The emulator binary: $TWILIO_EMULATOR_BINARY, else the one this wheel installed, else PATH."""
    explicit = os.environ.get("TWILIO_EMULATOR_BINARY")
    if explicit:
        return explicit
    # The wheel puts the binary in the environment's scripts directory, which is on PATH
    # only when the environment is activated.
    for scheme_path in (sysconfig.get_path("scripts"), sysconfig.get_path("scripts", f"{os.name}_user")):
        candidate = shutil.which(BINARY_NAME, path=scheme_path) if scheme_path else None
        if candidate:
            return candidate
    found = shutil.which(BINARY_NAME)
    if found is None:
        raise FileNotFoundError(f"{BINARY_NAME} is not installed here; set TWILIO_EMULATOR_BINARY to its path")
    return found


class Emulator:
    """A running emulator: one this object started (`Emulator.start()`) or one at a URL."""

    def __init__(self, base_url, process=None, log_path=None):
        self.base_url = base_url.rstrip("/")
        self.process = process
        #: The started binary's stderr (its request log), or None.
        self.log_path = log_path

    @classmethod
    def start(cls, binary=None, args=(), env=None, timeout=30.0):
        """Starts the binary on 127.0.0.1 and a free port; returns once it accepts requests.

        `args` are extra flags (`--seed 7`, `--accounts …`); `env` replaces the
        environment. Raises RuntimeError with the emulator's log if it does not start.
        """
        log = tempfile.NamedTemporaryFile(prefix="twilio-emulator-", suffix=".log", delete=False)
        command = [binary or binary_path(), "--host", "127.0.0.1", "--port", "0", *args]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, env=env, text=True)
        log.close()
        announced = {}
        ready = threading.Event()

        def read_stdout():
            # Keeps draining stdout after the announcement, so the binary never blocks on a full pipe.
            for line in process.stdout:
                match = _LISTENING.search(line)
                if match and "url" not in announced:
                    announced["url"] = match.group(1)
                    ready.set()
            ready.set()

        threading.Thread(target=read_stdout, name="twilio-emulator-stdout", daemon=True).start()
        if not ready.wait(timeout) or "url" not in announced:
            process.kill()
            process.wait()
            raise RuntimeError(f"{command[0]} did not start: {Path(log.name).read_text(errors='replace')}")
        return cls(announced["url"], process, log.name)

    def stop(self):
        """Stops a started emulator (SIGTERM: in-flight requests finish first)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def control(self, method, path, body=None):
        """Calls the control plane (`/_emulator/…`); returns the decoded JSON answer or None."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        token = os.environ.get("TWILIO_EMULATOR_CONTROL_TOKEN")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
        return json.loads(text) if text else None

    def reset(self, account_sid=None):
        """Deletes every account's data (or one account's), the request journal and faults."""
        query = f"?account={account_sid}" if account_sid else ""
        self.control("POST", f"/_emulator/reset{query}")

    def health(self):
        """The control plane's health document (`status`, `version`, `uptime_seconds`)."""
        return self.control("GET", "/_emulator/health")

    def client(self, account_sid=None, auth_token="test-auth-token", **http_options):
        """A `twilio.rest.Client` for `account_sid` (a new account when None) sent here."""
        from twilio.rest import Client

        from .client import EmulatorHttpClient

        http_client = EmulatorHttpClient(self.base_url, **http_options)
        return Client(account_sid or new_account_sid(), auth_token, http_client=http_client)
