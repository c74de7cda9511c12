"""Fixtures shared by the Python SDK suites; the helpers they use are in emulator_sdk.py.

The base URL comes from the environment variable EMULATOR_URL. Each test module gets
its own random account, recording HTTP client and SDK client (module scope), so no
state is shared between suites.
"""

import os

import pytest
from twilio.rest import Client

from emulator_sdk import LocalHttpClient, new_account_sid


@pytest.fixture(scope="session")
def base_url():
    url = os.environ.get("EMULATOR_URL")
    if not url:
        pytest.fail("set EMULATOR_URL to the emulator's base URL, e.g. http://127.0.0.1:4010")
    return url.rstrip("/")


@pytest.fixture(scope="module")
def account_sid():
    return new_account_sid()


@pytest.fixture(scope="module")
def http_client(base_url):
    return LocalHttpClient(base_url)


@pytest.fixture(scope="module")
def client(account_sid, http_client):
    return Client(account_sid, "any-token", http_client=http_client)


@pytest.fixture(scope="module")
def default_service_sid(client):
    sid = client.conversations.v1.configuration().fetch().default_chat_service_sid
    assert sid.startswith("IS") and len(sid) == 34, sid
    return sid
