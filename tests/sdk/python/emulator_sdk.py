"""Helpers shared by the Python SDK suites (the fixtures built on them are in conftest.py).

The official `twilio` SDK is pointed at the emulator by LocalHttpClient, which rewrites
https://conversations.twilio.com and https://chat.twilio.com to the URL in EMULATOR_URL;
everything else is the SDK's own code. With EMULATOR_PROXY=1 not even that: the SDK's own
HTTP client reaches the emulator through proxy mode (HTTPS_PROXY, REQUESTS_CA_BUNDLE).
"""

import os
import secrets

from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient

# These make the SDK rewrite hostnames (and would mangle 127.0.0.1).
os.environ.pop("TWILIO_REGION", None)
os.environ.pop("TWILIO_EDGE", None)

TWILIO_HOSTS = ("https://conversations.twilio.com", "https://chat.twilio.com")

# Whether the suites run through proxy mode (see conftest.py).
PROXY = os.environ.get("EMULATOR_PROXY") == "1"


class LocalHttpClient(TwilioHttpClient):
    """A TwilioHttpClient that sends Conversations and Chat requests to the emulator.

    It records every request as (method, url, params, data) in `requests`, and every
    response in `responses`.
    """

    def __init__(self, base_url):
        super().__init__(timeout=30)
        self.base_url = base_url.rstrip("/")
        self.requests = []
        self.responses = []

    def request(self, method, url, *args, **kwargs):
        for host in TWILIO_HOSTS:
            if url.startswith(host):
                url = self.base_url + url[len(host):]
                break
        assert url.startswith(self.base_url + "/"), f"the SDK requested {url}, not the emulator"
        self.requests.append((method, url, kwargs.get("params"), kwargs.get("data")))
        response = super().request(method, url, *args, **kwargs)
        self.responses.append(response)
        return response


def record(http_client):
    """Makes the SDK's own `http_client` record every request as (method, url, params, data)
    in `requests`, and every response in `responses`, as LocalHttpClient does: it still
    sends each request where the SDK addressed it."""
    http_client.requests = []
    http_client.responses = []
    send = http_client.request

    def request(method, url, *args, **kwargs):
        assert url.startswith(TWILIO_HOSTS), f"the SDK requested {url}, not a Twilio host"
        http_client.requests.append((method, url, kwargs.get("params"), kwargs.get("data")))
        response = send(method, url, *args, **kwargs)
        http_client.responses.append(response)
        return response

    http_client.request = request
    return http_client


def new_account_sid():
    """A fresh tenant: nothing is shared with other suites or earlier runs."""
    return "AC" + secrets.token_hex(16)


def create_service(client, account_sid, friendly_name):
    """A new Conversation Service of this account, created through Conversations v1."""
    service = client.conversations.v1.services.create(friendly_name=friendly_name)
    assert service.sid.startswith("IS") and len(service.sid) == 34, service.sid
    assert service.account_sid == account_sid
    return service


def assert_rest_error(excinfo, status, code):
    error = excinfo.value
    assert isinstance(error, TwilioRestException), type(error)
    assert error.status == status, (error.status, error.code, error.msg)
    assert error.code == code, (error.status, error.code, error.msg)
