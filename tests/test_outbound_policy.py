"""The outbound-connection policy (workers/netpolicy.py): what a tenant types cannot make the portal talk to
its own network or smuggle bytes onto a socket (issue 13). Each test fails on the code before it."""

from __future__ import annotations

import ipaddress
import socket
import subprocess
import threading

import pytest
from django.urls import reverse

from devices.models import Device, StreamSource
from tests.conftest import client_for
from workers import netpolicy
from workers.frames import FrameSource, FrameSourceError, SnapshotError, grab_snapshot
from workers.hls import hls_args
from workers.probe_camera import Problem, probe_camera
from workers.segmenter import segmenter_args

PUBLIC_ONLY = netpolicy.Policy()
STREAM = netpolicy.STREAM_SCHEMES

# One address per refused class, over IPv4 and IPv6.
REFUSED = [
    ("127.0.0.1", "loopback"),
    ("::1", "loopback"),
    ("::ffff:127.0.0.1", "loopback"),
    ("169.254.169.254", "link-local"),  # the cloud metadata service
    ("fe80::1", "link-local"),
    ("fd00:ec2::254", "unique-local"),  # the cloud metadata service over IPv6
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("192.168.1.10", "private"),
    ("100.64.0.1", "non-public"),  # carrier-grade NAT
    ("224.0.0.1", "multicast"),
    ("ff02::1", "multicast"),
    ("0.0.0.0", "unspecified"),  # noqa: S104
    ("::", "unspecified"),
    ("240.0.0.1", "reserved"),
]


def _stream_api(client, camera_pk, body):
    return client.put(f"/api/v1/devices/{camera_pk}/stream/", body, content_type="application/json")


@pytest.fixture
def resolves_to(monkeypatch):
    """Make a host name resolve to the given addresses, for the policy's own getaddrinfo."""

    def install(mapping: dict[str, list[str]]):
        real = socket.getaddrinfo

        def fake(host, port, *args, **kwargs):
            if host in mapping:
                family = lambda a: socket.AF_INET6 if ":" in a else socket.AF_INET  # noqa: E731
                return [(family(a), socket.SOCK_STREAM, 6, "", (a, port or 0)) for a in mapping[host]]
            return real(host, port, *args, **kwargs)

        monkeypatch.setattr(netpolicy.socket, "getaddrinfo", fake)

    return install


# ----------------------------------------------------------------------------- syntax


@pytest.mark.parametrize("bad", ["\r\n", "\n", "\r", "\t", " ", "\x00", "\x1b", "\u2028", "\u00a0"])
@pytest.mark.parametrize("where", ["path", "host", "end", "credentials"])
def test_a_control_character_or_whitespace_anywhere_is_refused_never_stripped(bad, where):
    url = {
        "path": f"rtsp://cam.example/a{bad}b",
        "host": f"rtsp://cam{bad}.example/s",
        "end": f"rtsp://cam.example/s{bad}",
        "credentials": f"rtsp://admin:pa{bad}ss@cam.example/s",
    }[where]
    with pytest.raises(netpolicy.Refused) as caught:
        netpolicy.clean_url(url, schemes=STREAM)
    assert caught.value.code == "characters"


@pytest.mark.parametrize("bad", ["cam\r\n.example", "cam\n", " cam.example", "cam/x", "cam@x", "http://cam", "a..b"])
def test_a_bad_host_is_refused(bad):
    with pytest.raises(netpolicy.Refused):
        netpolicy.clean_host(bad)


def test_the_url_is_stored_re_serialised_from_its_parts():
    clean = netpolicy.clean_url("RTSP://Admin:p%40ss@CAM.Example:8554/Live/{channel}?a=1", schemes=STREAM)
    assert clean == "rtsp://Admin:p%40ss@cam.example:8554/Live/{channel}?a=1"
    assert netpolicy.clean_url("rtsp://[2001:db8::1]:554/s", schemes=STREAM) == "rtsp://[2001:db8::1]:554/s"


@pytest.mark.parametrize("url", ["http://cam/s", "file:///etc/passwd", "/data/media/x.jpg", "concat:a|b", "rtsp:/x"])
def test_only_rtsp_schemes_are_streams(url):
    with pytest.raises(netpolicy.Refused):
        netpolicy.clean_url(url, schemes=STREAM)


# ----------------------------------------------------------------------------- addresses


@pytest.mark.parametrize(("address", "kind"), REFUSED)
def test_each_refused_address_class_is_refused(address, kind):
    assert netpolicy.address_class(ipaddress.ip_address(address)) == kind
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(netpolicy.Refused) as caught:
        PUBLIC_ONLY.connect(f"rtsp://{host}:554/s", schemes=STREAM)
    assert caught.value.code == "address" and kind in caught.value.message


@pytest.mark.parametrize(("address", "kind"), REFUSED)
def test_a_name_that_resolves_to_a_refused_address_is_refused(resolves_to, address, kind):
    resolves_to({"camera.attacker.example": ["203.0.113.7", address]})  # one bad address is enough
    with pytest.raises(netpolicy.Refused) as caught:
        PUBLIC_ONLY.connect("rtsp://camera.attacker.example/s", schemes=STREAM)
    assert "camera.attacker.example resolves to" in caught.value.message


def test_localhost_is_refused_by_default():
    with pytest.raises(netpolicy.Refused):
        PUBLIC_ONLY.connect("rtsp://localhost:554/s", schemes=STREAM)


def test_a_public_address_is_allowed_and_pinned(resolves_to):
    resolves_to({"cam.example": ["8.8.8.8"]})
    target = PUBLIC_ONLY.connect("rtsp://u:p@cam.example:8554/s", schemes=STREAM)
    assert target.addresses == ("8.8.8.8",)
    assert target.pinned_url == "rtsp://u:p@8.8.8.8:8554/s"  # ffmpeg does not resolve the name again


def test_the_allow_list_admits_a_configured_network(resolves_to):
    vpn = netpolicy.Policy.from_cidrs(["10.20.0.0/16", "fd12:3456::/32"])
    resolves_to({"cam.site-b.internal": ["10.20.4.5"]})
    assert vpn.connect("rtsp://cam.site-b.internal/s", schemes=STREAM).addresses == ("10.20.4.5",)
    assert vpn.connect("rtsp://[fd12:3456::9]/s", schemes=STREAM).addresses == ("fd12:3456::9",)
    with pytest.raises(netpolicy.Refused):
        vpn.connect("rtsp://10.21.0.1/s", schemes=STREAM)  # the next network is still refused
    with pytest.raises(ValueError, match="CIDR"):
        netpolicy.Policy.from_cidrs(["10.20.0.1/16"])


def test_connect_time_check_refuses_a_name_that_now_resolves_to_a_refused_address(resolves_to, settings):
    settings.CAMERA_ALLOWED_NETWORKS = []  # production's default: public only
    resolves_to({"rebind.attacker.example": ["8.8.8.8"]})
    url = netpolicy.current().check_input("rtsp://rebind.attacker.example:6379/s", schemes=STREAM)  # typed: fine
    resolves_to({"rebind.attacker.example": ["127.0.0.1"]})  # later, DNS answers loopback
    with pytest.raises(netpolicy.Refused):
        netpolicy.current().connect(url, schemes=STREAM)
    assert probe_camera(url, timeout=2).problem == Problem.REFUSED
    with pytest.raises(FrameSourceError, match="refused"):
        list(FrameSource(url))
    with pytest.raises(SnapshotError, match="refused"):
        grab_snapshot(url)


# ----------------------------------------------------------------------------- forms and API


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("rtsp_url", "rtsp://127.0.0.1:6379/x\r\nSET recording:snapshot:1 x\r\nX"),
        ("rtsp_url", "rtsp://127.0.0.1:6379/x\nFLUSHALL\nX"),
        ("rtsp_url", "rtsp://cam.example/s\r\n"),
        ("onvif_host", "127.0.0.1\r\nSET a b"),
        ("onvif_host", "cam.example\n"),
    ],
)
def test_line_breaks_get_a_field_error_from_the_api_and_nothing_is_stored(alpha, field, value):
    body = {"stream_source": "rtsp" if field == "rtsp_url" else "onvif", field: value}
    response = _stream_api(client_for(alpha.admin), alpha.camera.pk, body)
    assert response.status_code == 400
    assert "line breaks" in response.json()[field][0]
    camera = Device.objects.get(pk=alpha.camera.pk)
    assert (camera.rtsp_url, camera.onvif_host, camera.stream_source) == ("", "", StreamSource.NONE)


@pytest.mark.parametrize(
    ("field", "value"),
    [("rtsp_url", "rtsp://127.0.0.1:6379/x\r\nSET a b\r\nX"), ("onvif_host", "127.0.0.1\nX")],
)
def test_line_breaks_get_a_field_error_on_the_page_and_nothing_is_stored(alpha, field, value):
    data = {"source": "rtsp" if field == "rtsp_url" else "onvif", field: value}
    response = client_for(alpha.admin).post(reverse("devices:stream", args=[alpha.camera.pk]), data)
    assert response.status_code == 200
    assert "line breaks" in response.content.decode()
    assert Device.objects.get(pk=alpha.camera.pk).stream_source == StreamSource.NONE


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("rtsp_url", "rtsp://169.254.169.254/latest/meta-data"),
        ("rtsp_url", "rtsp://[fd00:ec2::254]/s"),
        ("rtsp_url", "rtsp://0.0.0.0:5432/s"),
        ("rtsp_url", "rtsp://127.0.0.1:6379/s"),
        ("onvif_host", "10.0.0.1"),
        ("onvif_host", "::1"),
    ],
)
def test_internal_addresses_get_a_field_error_in_production(alpha, settings, field, value):
    settings.CAMERA_ALLOWED_NETWORKS = []
    body = {"stream_source": "rtsp" if field == "rtsp_url" else "onvif", field: value}
    response = _stream_api(client_for(alpha.admin), alpha.camera.pk, body)
    assert response.status_code == 400
    assert "not allowed for cameras" in response.json()[field][0]


def test_the_field_error_is_translated(alpha):
    client = client_for(alpha.admin)
    body = {"stream_source": "rtsp", "rtsp_url": "rtsp://cam.example/a\r\nb"}
    response = client.put(
        f"/api/v1/devices/{alpha.camera.pk}/stream/", body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="ja"
    )
    message = response.json()["rtsp_url"][0]
    assert "line breaks" not in message and "改行" in message


def test_the_smuggled_line_never_reaches_a_socket(alpha):
    """Issue 13's attack: a stream URL with CRLF, then "Refresh trouble info". Before the policy the
    listener received `SET …` as a line of its own (a Redis on that port ran it)."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.settimeout(0.5)
    received = bytearray()
    done = threading.Event()

    def serve():
        while not done.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    received.extend(conn.recv(4096))
                except TimeoutError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    client = client_for(alpha.admin)
    smuggled = f"rtsp://127.0.0.1:{port}/x\r\nSET recording:snapshot:1 PWNED\r\nX"
    assert _stream_api(client, alpha.camera.pk, {"stream_source": "rtsp", "rtsp_url": smuggled}).status_code == 400
    # Even a value stored before the policy (written straight to the database) is refused at connect time.
    Device.objects.filter(pk=alpha.camera.pk).update(stream_source=StreamSource.RTSP, rtsp_url=smuggled)
    client.post(reverse("devices:trouble_refresh", args=[alpha.camera.pk]))
    done.set()
    thread.join(5)
    listener.close()
    assert b"PWNED" not in received and b"SET " not in received


# ----------------------------------------------------------------------------- ffmpeg


def test_every_ffmpeg_command_for_a_camera_carries_the_camera_protocol_whitelist(tmp_path):
    url = "rtsp://admin:pw@127.0.0.1:8554/cam1"
    commands = [
        FrameSource(url).args(),
        hls_args(url=url, out_dir=tmp_path),
        segmenter_args(url=url, out_dir=tmp_path),
    ]
    for args in commands:
        whitelist = args[args.index("-protocol_whitelist") + 1]
        assert args.index("-protocol_whitelist") < args.index("-i")
        assert "file" not in whitelist.split(",") and "http" not in whitelist.split(",")
    file_args = FrameSource(str(tmp_path / "clip.mp4")).args()
    assert file_args[file_args.index("-protocol_whitelist") + 1] == "file"


@pytest.mark.parametrize("url", ["file:///etc/passwd", "concat:/etc/passwd|/etc/hosts", "http://127.0.0.1/x"])
def test_a_camera_url_that_is_not_rtsp_never_reaches_ffmpeg(url):
    with pytest.raises(netpolicy.Refused):
        netpolicy.ffmpeg_input(url)
    with pytest.raises(SnapshotError):
        grab_snapshot(url)


def test_ffmpeg_itself_refuses_a_file_input_under_the_camera_whitelist(tmp_path):
    """Belt and braces: even if a file: URL got past the checks, ffmpeg would not open it."""
    target = tmp_path / "other-operator-thumbnail.jpg"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=c=red:s=32x32", "-frames:v", "1", str(target)],
        check=True,
        capture_output=True,
    )
    cmd = ["ffmpeg", "-v", "error", "-protocol_whitelist", netpolicy.CAMERA_PROTOCOLS, "-i", f"file:{target}"]
    done = subprocess.run([*cmd, "-f", "null", "-"], capture_output=True, text=True, timeout=30)
    assert done.returncode != 0 and "not on whitelist" in done.stderr
    allowed = ["ffmpeg", "-v", "error", "-protocol_whitelist", "file", "-i", str(target), "-f", "null", "-"]
    assert subprocess.run(allowed, capture_output=True, timeout=30).returncode == 0
