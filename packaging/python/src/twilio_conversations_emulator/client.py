"""A twilio-python HTTP client that sends the emulated hosts' requests to the emulator.

The SDK builds absolute https://conversations.twilio.com/… URLs and has no base-URL
setting that covers every domain and the absolute page URLs it follows; an HTTP client
that rewrites the prefix does (README, "Pointing an SDK at the emulator").
"""

from twilio.http.http_client import TwilioHttpClient

from . import TWILIO_HOSTS


class EmulatorHttpClient(TwilioHttpClient):
    """Sends requests for Conversations, Chat and Media (`TWILIO_HOSTS`) to `base_url`.

    Use it as `Client(sid, token, http_client=EmulatorHttpClient(url))`. Requests to other
    Twilio hosts are left alone. Keyword arguments go to TwilioHttpClient (timeout, …).
    """

    def __init__(self, base_url, **kwargs):
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")

    def request(self, method, url, *args, **kwargs):
        url = TWILIO_HOSTS.sub(lambda _: self.base_url, url, count=1)
        return super().request(method, url, *args, **kwargs)
