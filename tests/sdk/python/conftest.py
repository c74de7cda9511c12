"""Fixtures shared by the Python SDK suites; the helpers they use are in emulator_sdk.py.

The emulator's address comes from the environment variable EMULATOR_URL. The suites run
in one of two ways:

- directly (the default): the SDK's HTTP client rewrites Twilio's hosts to EMULATOR_URL;
- through proxy mode (EMULATOR_PROXY=1, with HTTPS_PROXY and REQUESTS_CA_BUNDLE set): a
  plain `Client(sid, token)`, with nothing but those variables pointing it at the emulator.

Each test module gets its own random account, SDK client and request recorder (module
scope), so no state is shared between suites.
"""

import os

import pytest
from twilio.rest import Client

from emulator_sdk import PROXY, LocalHttpClient, new_account_sid, record


@pytest.fixture(scope="session")
def emulator_url():
    """The emulator itself: what the SDK cannot do (uploads, the control plane) goes here."""
    url = os.environ.get("EMULATOR_URL")
    if not url:
        pytest.fail("set EMULATOR_URL to the emulator's base URL, e.g. http://127.0.0.1:4010")
    return url.rstrip("/")


@pytest.fixture(scope="session")
def base_url(emulator_url):
    """Where the SDK's Conversations requests go, and what their `url` and links start with."""
    return "https://conversations.twilio.com" if PROXY else emulator_url


@pytest.fixture(scope="session")
def chat_base_url(base_url):
    """The same for Chat v2, which Twilio serves on a host of its own."""
    return "https://chat.twilio.com" if PROXY else base_url


@pytest.fixture(scope="module")
def account_sid():
    return new_account_sid()


@pytest.fixture(scope="module")
def client(account_sid, emulator_url):
    if PROXY:
        return Client(account_sid, "any-token")
    return Client(account_sid, "any-token", http_client=LocalHttpClient(emulator_url))


@pytest.fixture(scope="module")
def http_client(client):
    """The client's HTTP client, recording what it sends (`requests`) and receives (`responses`)."""
    return record(client.http_client) if PROXY else client.http_client


@pytest.fixture(scope="module")
def default_service_sid(client):
    sid = client.conversations.v1.configuration().fetch().default_chat_service_sid
    assert sid.startswith("IS") and len(sid) == 34, sid
    return sid
