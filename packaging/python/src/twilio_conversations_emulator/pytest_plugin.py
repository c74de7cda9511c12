"""pytest fixtures for the Twilio Conversations emulator (registered through `pytest11`).

- `twilio_emulator` (session): the emulator. Started from the installed binary on a free
  loopback port and stopped after the session, unless `--twilio-emulator-url` (or
  `TWILIO_EMULATOR_URL`) names one already running, such as a CI service container.
- `twilio_account_sid`, `twilio_auth_token`: a fresh account per test (in permissive mode
  every AC… SID is an empty tenant of its own), so tests never see each other's data.
- `twilio_client`: a `twilio.rest.Client` for that account, sent to the emulator.
- `twilio_webhook_receiver`: a server validating `X-Twilio-Signature` with that token.
- `twilio_emulator_reset`: the emulator, emptied before the test (every account).
"""

import os

import pytest

from . import Emulator, new_account_sid


def pytest_addoption(parser):
    group = parser.getgroup("twilio-conversations-emulator")
    group.addoption(
        "--twilio-emulator-url",
        default=os.environ.get("TWILIO_EMULATOR_URL"),
        help="use the emulator at this URL instead of starting one (env: TWILIO_EMULATOR_URL)",
    )
    group.addoption(
        "--twilio-emulator-binary",
        default=None,
        help="the emulator binary to start (env: TWILIO_EMULATOR_BINARY; default: the installed one)",
    )
    group.addoption(
        "--twilio-emulator-arg",
        action="append",
        default=[],
        help="a flag for the started emulator, e.g. --twilio-emulator-arg=--seed=7 (repeatable)",
    )


@pytest.fixture(scope="session")
def twilio_emulator(request):
    """The emulator for the whole session (an `Emulator`: `base_url`, `reset()`, `client()`)."""
    url = request.config.getoption("--twilio-emulator-url")
    if url:
        yield Emulator(url)
        return
    emulator = Emulator.start(
        binary=request.config.getoption("--twilio-emulator-binary"),
        args=request.config.getoption("--twilio-emulator-arg"),
    )
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def twilio_emulator_reset(twilio_emulator):
    """The emulator with every account's data deleted first (for tests using fixed SIDs)."""
    twilio_emulator.reset()
    return twilio_emulator


@pytest.fixture
def twilio_account_sid():
    """A new account SID for this test."""
    return new_account_sid()


@pytest.fixture
def twilio_auth_token():
    """The auth token this test's client sends, and so the one the emulator signs webhooks with."""
    return "token-" + new_account_sid()[2:]


@pytest.fixture
def twilio_client(twilio_emulator, twilio_account_sid, twilio_auth_token):
    """A `twilio.rest.Client` for this test's account, pointed at the emulator."""
    return twilio_emulator.client(twilio_account_sid, twilio_auth_token)


@pytest.fixture
def twilio_webhook_receiver(twilio_auth_token):
    """A `WebhookReceiver` validating signatures with this test's auth token."""
    from .webhooks import WebhookReceiver

    with WebhookReceiver(twilio_auth_token) as receiver:
        yield receiver
