"""Which path the live page plays on (issue #18: "HLS where the low-latency path is unavailable, and on
iOS Safari unless ManagedMediaSource is available"), in headless Chromium against daphne
(tests/live_asgi.py), a SimCamera recorded by an ingest worker.

- The choice itself (live.js `choosePlayers`, a pure function) for the browsers people use.
- iOS and iPadOS, played as Chromium dressed up by an init script: an iPad with ManagedMediaSource plays
  the low-latency path through it (attached as Safari needs it: srcObject, remote playback disabled);
  an iPhone, or an iPad asking for the desktop site, with only a plain MediaSource (iOS 13-16) plays HLS.
- The socket refused for too many sockets (4429) and a server without the socket route (the WSGI live
  server: the upgrade is a 404): the page plays HLS and says so.
"""

from __future__ import annotations

import pytest
from django.templatetags.static import static
from django.urls import reverse

from tests.recording.live_page import open_live, playing, recorded

pytestmark = pytest.mark.django_db(transaction=True)

IPHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 16_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)"
    " Version/16.6 Mobile/15E148 Safari/604.1"
)
IPAD_UA = (
    "Mozilla/5.0 (iPad; CPU OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)"
    " Version/17.1 Mobile/15E148 Safari/604.1"
)
# iPadOS 13+ asks for the desktop site: a Mac's user agent and platform; only the touch screen tells.
MAC_UA = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"
    " Version/16.6 Safari/605.1.15"
)
CHROME_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"


def dressed_as(user_agent: str, platform: str, touch_points: int) -> str:
    """An init script: the page's navigator reads as that device's."""
    return f"""
    for (const [name, value] of Object.entries({{
      userAgent: {user_agent!r}, platform: {platform!r}, maxTouchPoints: {touch_points}}})) {{
      Object.defineProperty(Navigator.prototype, name, {{ get: () => value, configurable: true }});
    }}
    """


# iOS 17.1+: ManagedMediaSource and no plain MediaSource. Chromium has no ManagedMediaSource, so it is a
# MediaSource underneath; attaching it follows Safari: srcObject only (no object URL), and it opens
# (sourceopen) only on an element whose remote playback is disabled (or with an AirPlay alternative
# source: MDN, ManagedMediaSource). window.managed records what the page did.
MANAGED_MEDIA_SOURCE = """
(() => {
  const Native = window.MediaSource;
  window.managed = { made: 0, attached: [] };
  class ManagedMediaSource extends Native {
    constructor() { super(); window.managed.made += 1; }
  }
  const proto = HTMLMediaElement.prototype;
  const srcObject = Object.getOwnPropertyDescriptor(proto, "srcObject");
  const attached = new WeakMap();
  Object.defineProperty(proto, "srcObject", {
    configurable: true,
    get() { return attached.has(this) ? attached.get(this) : srcObject.get.call(this); },
    set(value) {
      if (value instanceof ManagedMediaSource) {
        attached.set(this, value);
        window.managed.attached.push({ disableRemotePlayback: this.disableRemotePlayback });
        if (this.disableRemotePlayback) {
          window.managed.attaching = true;
          this.src = URL.createObjectURL(value);
          window.managed.attaching = false;
        }
        return;
      }
      attached.delete(this);
      srcObject.set.call(this, value);
    },
  });
  const createObjectURL = URL.createObjectURL;
  URL.createObjectURL = (object) => {
    if (object instanceof ManagedMediaSource && !window.managed.attaching) {
      window.managed.objectUrl = true;  // Safari has no object URL for a ManagedMediaSource
    }
    return createObjectURL(object);
  };
  window.ManagedMediaSource = ManagedMediaSource;
  delete window.MediaSource;
  delete window.WebKitMediaSource;
})();
"""


@pytest.fixture
def recording_camera(tenant, settings, tmp_path, sim):
    """The tenant's camera recorded from a SimCamera by a worker ticking every second in the background."""
    with recorded(tenant, settings, tmp_path, sim, "fallbacks") as camera:
        yield camera


def sockets_of(page) -> list[str]:
    opened: list[str] = []
    page.on("websocket", lambda ws: opened.append(ws.url))
    return opened


# window.socketCloses: the close code of every WebSocket the page opened (4429: too many; 1006: none made).
CLOSE_CODES = """
(() => {
  const Native = window.WebSocket;
  window.socketCloses = [];
  window.WebSocket = function (url, protocols) {
    const socket = new Native(url, protocols);
    socket.addEventListener("close", (event) => window.socketCloses.push(event.code));
    return socket;
  };
  window.WebSocket.prototype = Native.prototype;
})();
"""


CHOICES = [
    # (what, navigator (UA, platform, touch points), ManagedMediaSource, MediaSource, native HLS, expected)
    ("desktop Chrome", (CHROME_UA, "Linux x86_64", 0), False, True, False, ("MediaSource", "hlsjs")),
    ("macOS Safari 17", (MAC_UA, "MacIntel", 0), True, True, True, ("ManagedMediaSource", "hlsjs")),
    ("macOS Safari 16", (MAC_UA, "MacIntel", 0), False, True, True, ("MediaSource", "hlsjs")),
    ("iPad, iPadOS 17.1", (IPAD_UA, "iPad", 5), True, True, True, ("ManagedMediaSource", "hlsjs")),
    ("iPad desktop site, iPadOS 17.1", (MAC_UA, "MacIntel", 5), True, True, True, ("ManagedMediaSource", "hlsjs")),
    ("iPad desktop site, iPadOS 16", (MAC_UA, "MacIntel", 5), False, True, True, (None, "hlsjs")),
    ("iPad, iPadOS 15", (IPAD_UA, "iPad", 5), False, True, True, (None, "hlsjs")),
    ("iPhone, iOS 16", (IPHONE_UA, "iPhone", 5), False, False, True, (None, "native")),
]


def test_the_page_chooses_the_low_latency_path_and_hls_by_the_browser(page, live_asgi):
    page.goto(live_asgi.url + reverse("tenants:login"))
    page.add_script_tag(url=live_asgi.url + static("recording/live.js"))
    for what, (ua, platform, touch), managed, plain, native, expected in CHOICES:
        chosen = page.evaluate(
            """([ua, platform, touch, managed, plain, native]) => {
              const choice = window.liveView.choosePlayers({
                navigator: { userAgent: ua, platform: platform, maxTouchPoints: touch },
                ManagedMediaSource: managed ? "ManagedMediaSource" : undefined,
                MediaSource: plain ? "MediaSource" : undefined,
                WebSocket: "WebSocket", hlsJs: plain || managed, nativeHls: native,
              });
              return [choice.source, choice.hls];
            }""",
            [ua, platform, touch, managed, plain, native],
        )
        assert tuple(chosen) == expected, what
    # No WebSocket: no low-latency path, whatever MediaSource there is.
    assert (
        page.evaluate(
            "() => window.liveView.choosePlayers({navigator: {}, MediaSource: 'MediaSource', hlsJs: true}).source"
        )
        is None
    )


def test_an_ipad_with_managed_media_source_plays_the_low_latency_path_through_it(
    page, live_asgi, tenant, recording_camera
):
    page.add_init_script(dressed_as(IPAD_UA, "iPad", 5) + MANAGED_MEDIA_SOURCE)
    opened = sockets_of(page)
    open_live(page, live_asgi, tenant, recording_camera)
    playing(page, "mse")
    assert page.locator("#live-path").inner_text() == "Low latency"
    assert page.locator("#live-status").inner_text() == "Live"
    managed = page.evaluate("() => window.managed")
    # Played through a ManagedMediaSource, attached by srcObject with remote playback disabled first.
    assert managed["made"] >= 1 and managed["attached"], managed
    assert all(a["disableRemotePlayback"] for a in managed["attached"]), managed
    assert not managed.get("objectUrl"), managed
    assert page.locator("#live-video").evaluate("v => v.srcObject instanceof window.ManagedMediaSource")
    assert [url.split("?")[0] for url in opened] == [f"{live_asgi.ws_url}/ws/live/{recording_camera.pk}/"]


@pytest.mark.parametrize(
    "device",
    [(IPHONE_UA, "iPhone", 5), (MAC_UA, "MacIntel", 5)],
    ids=["iphone-ios16", "ipad-desktop-site-ipados16"],
)
def test_ios_with_only_a_plain_media_source_plays_hls(page, live_asgi, tenant, recording_camera, device):
    page.add_init_script(dressed_as(*device))  # Chromium's own MediaSource stays: iPadOS 13-16 has one
    opened = sockets_of(page)
    open_live(page, live_asgi, tenant, recording_camera)
    playing(page, "hls")
    assert page.locator("#live-path").inner_text() == "HLS"
    assert page.locator("#live-status").inner_text() == "Live (a few seconds behind real time)"
    assert opened == []  # the socket is not even tried


def test_a_second_page_over_the_socket_limit_plays_hls_and_says_so(page, live_asgi, tenant, recording_camera, settings):
    settings.LIVE_SOCKETS_PER_CLIENT = 1
    open_live(page, live_asgi, tenant, recording_camera)
    playing(page, "mse")
    second = page.context.new_page()  # the same user from the same address: the same client
    second.add_init_script(CLOSE_CODES)
    open_live(second, live_asgi, tenant, recording_camera, log_in_first=False)
    playing(second, "hls")
    assert second.evaluate("() => window.socketCloses") == [4429]
    assert second.locator("#live-path").inner_text() == "HLS"
    assert second.locator("#live-status").inner_text() == "Live (a few seconds behind real time)"
    # The first page plays on, on its socket.
    assert page.locator("#live-video").evaluate("v => v.dataset.path") == "mse"
    playing(page, "mse")
    second.close()


def test_a_server_without_the_socket_route_plays_hls_and_says_so(page, live_server, tenant, recording_camera):
    """pytest-django's live server is WSGI: no ASGI socket route, the upgrade is answered 404."""
    page.add_init_script(CLOSE_CODES)
    tried = sockets_of(page)
    open_live(page, live_server, tenant, recording_camera)
    playing(page, "hls")
    assert [url.split("?")[0] for url in tried] == [
        f"{live_server.url.replace('http', 'ws')}/ws/live/{recording_camera.pk}/"
    ]
    assert page.evaluate("() => window.socketCloses") == [1006]  # never opened
    assert page.locator("#live-path").inner_text() == "HLS"
    assert page.locator("#live-status").inner_text() == "Live (a few seconds behind real time)"
    assert page.locator("#live-snapshot").evaluate("e => e.hidden")
