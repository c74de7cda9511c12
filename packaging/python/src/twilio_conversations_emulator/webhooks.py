"""A webhook receiver for tests: an HTTP server on a free loopback port that checks each
request's `X-Twilio-Signature` with twilio's own `RequestValidator`, records it, and lets
a test wait for an event without sleeping.

Point the emulator (or Twilio's webhook settings) at `receiver.url + "/any/path"`. A
request whose signature does not validate is recorded with `valid=False` and answered
403, as an app using `RequestValidator` would answer it.
"""

import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from twilio.request_validator import RequestValidator

__all__ = ["WebhookReceiver", "WebhookRequest"]


class _Params(dict):
    """Form parameters with every value of a repeated key (`getlist`, which the validator uses)."""

    def __init__(self, pairs):
        super().__init__()
        self._lists = {}
        for key, value in pairs:
            self._lists.setdefault(key, []).append(value)
            self.setdefault(key, value)

    def getlist(self, key):
        return list(self._lists.get(key, []))


@dataclass
class WebhookRequest:
    """One request the receiver got."""

    method: str
    path: str
    headers: dict
    params: dict
    valid: bool
    body: bytes = field(repr=False, default=b"")

    @property
    def event_type(self):
        """Conversations' `EventType` (`onMessageAdded`, …), or None."""
        return self.params.get("EventType")


class WebhookReceiver:
    """A signature-checking HTTP server on 127.0.0.1 and a free port; a context manager.

    `auth_token` is the token the emulator signs with: in permissive mode, the one the
    account's API client last used. `respond(request)` returns (status, body) for a valid
    request; the default answers 200 with no body (a pre-event goes ahead unchanged).
    """

    def __init__(self, auth_token, respond=None):
        self.validator = RequestValidator(auth_token)
        self.respond = respond or (lambda request: (200, b""))
        self.requests = []
        self._changed = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="webhook-receiver", daemon=True)
        self._thread.start()

    def close(self):
        """Stops the server."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _record(self, request):
        with self._changed:
            self.requests.append(request)
            self._changed.notify_all()

    def wait_for(self, event_type=None, count=1, timeout=10.0, predicate=None):
        """The first `count` requests with that `EventType` (or matching `predicate`), once
        they have arrived; raises TimeoutError with what did arrive if they do not in time."""

        def matching():
            return [
                request
                for request in self.requests
                if (event_type is None or request.event_type == event_type) and (predicate is None or predicate(request))
            ]

        with self._changed:
            if not self._changed.wait_for(lambda: len(matching()) >= count, timeout):
                got = [(request.method, request.path, request.event_type) for request in self.requests]
                raise TimeoutError(f"waited {timeout}s for {count} × {event_type or 'request'}; got {got}")
            return matching()[:count]

    def _handler_class(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                url = receiver.url + self.path
                query = urllib.parse.urlsplit(self.path).query
                if self.command == "POST":
                    pairs = urllib.parse.parse_qsl(body.decode(), keep_blank_values=True)
                    # The signature covers the URL (its query included) and the form parameters.
                    valid = receiver.validator.validate(url, _Params(pairs), self.headers.get("X-Twilio-Signature", ""))
                else:
                    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
                    valid = receiver.validator.validate(url, {}, self.headers.get("X-Twilio-Signature", ""))
                request = WebhookRequest(self.command, self.path, dict(self.headers), _Params(pairs), valid, body)
                receiver._record(request)
                status, answer = receiver.respond(request) if valid else (403, b"invalid X-Twilio-Signature")
                answer = answer.encode() if isinstance(answer, str) else answer
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                if answer:
                    self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(answer)

            do_GET = do_POST = _handle

            def log_message(self, *args):
                # Quiet: pytest shows the test's output, not an access log.
                pass

        return Handler
