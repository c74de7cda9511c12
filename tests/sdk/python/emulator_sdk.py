"""Helpers shared by the Python SDK suites (the fixtures built on them are in conftest.py).

The official `twilio` SDK is pointed at the emulator by LocalHttpClient, which rewrites
https://conversations.twilio.com and https://chat.twilio.com to the URL in EMULATOR_URL;
everything else is the SDK's own code.
"""

import os
import secrets

from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient

# These make the SDK rewrite hostnames (and would mangle 127.0.0.1).
os.environ.pop("TWILIO_REGION", None)
os.environ.pop("TWILIO_EDGE", None)

TWILIO_HOSTS = ("https://conversations.twilio.com", "https://chat.twilio.com")


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
