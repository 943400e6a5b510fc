"""A simulated ONVIF camera / edge recorder on loopback, for the tests and the demo: ipycam's SOAP side
(device + media service) in front of a simulated RTSP camera's mounts (demo/sim_camera.py), and an event
service of its own (ipycam has none): PullPoint subscriptions that can be told to raise motion or a
storage failure (``raise_motion``, ``storage_failure``), renewed and unsubscribed like a camera's.

ipycam 1.3.0 is a whole virtual camera (go2rtc streaming, WS-Discovery multicast, a web UI); only its
SOAP answers are used here: `ipycam.ONVIFService` behind `ipycam.IPCameraHTTPHandler`, served by a
plain ThreadingHTTPServer bound to 127.0.0.1. No `IPCamera` is started, so there is no discovery,
no go2rtc and nothing leaves loopback. The advertised addresses (`local_ip`) are forced to loopback.
"""

from __future__ import annotations

import http.server
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from xml.sax.saxutils import quoteattr

from ipycam import CameraConfig, IPCameraHTTPHandler, ONVIFService

from demo.rtsp_sim import free_tcp_port

_EVENTS_NS = "http://www.onvif.org/ver10/events/wsdl"
_ENVELOPE = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://www.w3.org/2005/08/addressing"'
    ' xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2" xmlns:tev="http://www.onvif.org/ver10/events/wsdl"'
    ' xmlns:tt="http://www.onvif.org/ver10/schema" xmlns:tns1="http://www.onvif.org/ver10/topics">'
    "<s:Body>{body}</s:Body></s:Envelope>"
)
_FAULT = (
    "<s:Fault><s:Code><s:Value>s:Receiver</s:Value></s:Code>"
    '<s:Reason><s:Text xml:lang="en">{reason}</s:Text></s:Reason></s:Fault>'
)
_ACTION = re.compile(
    r"<(?:[\w-]+:)?(CreatePullPointSubscription|PullMessages|Renew|Unsubscribe|SetSynchronizationPoint|"
    r"GetEventProperties|GetServiceCapabilities)\b"
)
_DURATION = re.compile(r"P(?:T(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?)?")
MOTION_TOPICS = {
    "cell": ("tns1:RuleEngine/CellMotionDetector/Motion", "IsMotion"),
    "alarm": ("tns1:VideoSource/MotionAlarm", "State"),
}


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _seconds(text: str, default: float) -> float:
    match = _DURATION.fullmatch((text or "").strip())
    if not match or not any(match.groups()):
        return default
    hours, minutes, seconds = match.groups()
    return int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds or 0)


def _element(body: str, name: str) -> str:
    found = re.search(rf"<(?:[\w-]+:)?{name}>([^<]*)<", body)
    return found.group(1) if found else ""


@dataclass
class _Subscription:
    until: float  # monotonic
    messages: list[str] = field(default_factory=list)


class _RtspServer:  # what OnvifDevice needs of a SimCamera: the port its mounts are on
    port: int


@dataclass
class OnvifDevice:
    """ONVIF SOAP on http://127.0.0.1:<port>/onvif/device_service, advertising `sim`'s mount `mount`
    (media profile 1) and `sub_mount` (profile 2: an edge recorder's channel 2)."""

    sim: _RtspServer
    mount: str = "cam1"
    sub_mount: str = ""  # the second media profile (an edge recorder's channel 2); the main mount if blank
    username: str = "admin"
    password: str = "secret"  # noqa: S105  (the simulator's default)
    port: int = 0
    events: bool = True  # an event service (PullPoint); False: a device without one
    nvr: bool = False  # profile 2 is channel 2 of an edge recorder (its own video source), not a sub-stream
    profiles: int = 2  # how many media profiles GetProfiles answers (fewer: a channel was removed)
    max_subscription_seconds: float = 0  # the longest termination time granted (0: what is asked)
    storage_failed: bool = False
    subscriptions: int = field(default=0, init=False)  # created, renewed, unsubscribed so far
    renewals: int = field(default=0, init=False)
    unsubscribed: int = field(default=0, init=False)
    _server: http.server.ThreadingHTTPServer | None = field(default=None, init=False, repr=False)
    _subs: dict[str, _Subscription] = field(default_factory=dict, init=False, repr=False)
    _changed: threading.Condition = field(default_factory=threading.Condition, init=False, repr=False)
    _config: CameraConfig | None = field(default=None, init=False, repr=False)

    # What a test (or the demo) tells the device ----------------------------------------------------

    def raise_motion(
        self, active: bool = True, *, channel: int = 1, topic: str = "cell", at: datetime | None = None
    ) -> None:
        """Every live subscription gets a motion message (``topic`` "cell": CellMotionDetector/IsMotion,
        "alarm": VideoSource/MotionAlarm/State) from the video source of ``channel``, stamped ``at`` (the
        message's UtcTime, the device's moment of the change; now when not given)."""
        name, key = MOTION_TOPICS[topic]
        self._publish(self._message(name, key, active, channel=channel, at=at))

    def storage_failure(self, failed: bool = True) -> None:
        self.storage_failed = failed
        self._publish(self._storage_message("Changed"))

    def set_password(self, password: str) -> None:
        """The device's account changes (its ONVIF password; the RTSP side is the SimCamera's own)."""
        self.password = password
        if self._config is not None:
            self._config.set_credentials(self.username, password)

    def stop_subscriptions(self) -> None:
        """Forget every subscription (the device restarted): the next pull on one is a fault."""
        with self._changed:
            self._subs.clear()
            self._changed.notify_all()

    def live_subscriptions(self) -> int:
        now = time.monotonic()
        with self._changed:
            return sum(1 for sub in self._subs.values() if sub.until > now)

    # Messages ----------------------------------------------------------------------------------------

    def _tokens(self, channel: int) -> tuple[str, str]:
        return (f"VSC_{channel}", f"VS_{channel}") if self.nvr else ("VSC_1", "VS_1")

    def _message(
        self,
        topic: str,
        key: str,
        active: bool,
        *,
        channel: int = 1,
        operation: str = "Changed",
        at: datetime | None = None,
    ) -> str:
        vsc, vs = self._tokens(channel)
        source = (
            f'<tt:SimpleItem Name="VideoSourceConfigurationToken" Value={quoteattr(vsc)}/>'
            if key == "IsMotion"
            else f'<tt:SimpleItem Name="Source" Value={quoteattr(vs)}/>'
        )
        if key == "IsMotion":
            source += '<tt:SimpleItem Name="VideoAnalyticsConfigurationToken" Value="VAC_1"/>'
            source += '<tt:SimpleItem Name="Rule" Value="MyMotionDetectorRule"/>'
        return self._notification(topic, source, key, "true" if active else "false", operation, at=at)

    def _storage_message(self, operation: str) -> str:
        source = '<tt:SimpleItem Name="Token" Value="SD_1"/>'
        value = "true" if self.storage_failed else "false"
        return self._notification("tns1:Device/HardwareFailure/StorageFailure", source, "Failed", value, operation)

    @staticmethod
    def _notification(topic: str, source: str, key: str, value: str, operation: str, at: datetime | None = None) -> str:
        return (
            "<wsnt:NotificationMessage>"
            f'<wsnt:Topic Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet">{topic}</wsnt:Topic>'
            f'<wsnt:Message><tt:Message UtcTime="{_stamp(at or datetime.now(UTC))}" PropertyOperation="{operation}">'
            f"<tt:Source>{source}</tt:Source>"
            f'<tt:Data><tt:SimpleItem Name="{key}" Value="{value}"/></tt:Data>'
            "</tt:Message></wsnt:Message></wsnt:NotificationMessage>"
        )

    def _publish(self, message: str) -> None:
        now = time.monotonic()
        with self._changed:
            for sub in self._subs.values():
                if sub.until > now:
                    sub.messages.append(message)
            self._changed.notify_all()

    # The event service's answers (called by the HTTP handler) ------------------------------------

    def _granted(self, asked: float) -> float:
        return min(asked, self.max_subscription_seconds) if self.max_subscription_seconds else asked

    def events_answer(self, path: str, body: str) -> tuple[int, str]:
        found = _ACTION.search(body)
        action = found.group(1) if found else ""
        now = datetime.now(UTC)
        if path.rstrip("/") == "/onvif/events_service":
            if action == "CreatePullPointSubscription":
                seconds = self._granted(_seconds(_element(body, "InitialTerminationTime"), 60))
                sub_id = uuid.uuid4().hex[:12]
                initial = [self._message(*MOTION_TOPICS["cell"], False, channel=1, operation="Initialized")]
                if self.nvr:
                    initial.append(self._message(*MOTION_TOPICS["cell"], False, channel=2, operation="Initialized"))
                initial.append(self._storage_message("Initialized"))
                with self._changed:
                    self._subs[sub_id] = _Subscription(until=time.monotonic() + seconds, messages=initial)
                    self.subscriptions += 1
                address = f"http://127.0.0.1:{self.port}/onvif/pullpoint/{sub_id}"
                return 200, (
                    "<tev:CreatePullPointSubscriptionResponse><tev:SubscriptionReference>"
                    f"<wsa:Address>{address}</wsa:Address></tev:SubscriptionReference>"
                    f"<wsnt:CurrentTime>{_stamp(now)}</wsnt:CurrentTime>"
                    f"<wsnt:TerminationTime>{_stamp(now + timedelta(seconds=seconds))}</wsnt:TerminationTime>"
                    "</tev:CreatePullPointSubscriptionResponse>"
                )
            if action == "GetServiceCapabilities":
                return 200, (
                    '<tev:GetServiceCapabilitiesResponse><tev:Capabilities WSSubscriptionPolicySupport="false"'
                    ' WSPullPointSupport="true" WSPausableSubscriptionManagerInterfaceSupport="false"/>'
                    "</tev:GetServiceCapabilitiesResponse>"
                )
            return 400, _FAULT.format(reason=f"Action not supported: {action or 'none'}")
        sub_id = path.rstrip("/").rsplit("/", 1)[-1]
        with self._changed:
            sub = self._subs.get(sub_id)
            if sub is None or sub.until <= time.monotonic():
                self._subs.pop(sub_id, None)
                return 400, _FAULT.format(reason="The subscription does not exist (expired or unsubscribed)")
            if action == "PullMessages":
                deadline = time.monotonic() + min(_seconds(_element(body, "Timeout"), 5), 60)
                while not sub.messages and time.monotonic() < deadline and sub_id in self._subs:
                    self._changed.wait(max(0.0, deadline - time.monotonic()))
                limit = int(_element(body, "MessageLimit") or 100)
                messages, sub.messages = sub.messages[:limit], sub.messages[limit:]
                until = now + timedelta(seconds=max(0.0, sub.until - time.monotonic()))
                return 200, (
                    f"<tev:PullMessagesResponse><tev:CurrentTime>{_stamp(datetime.now(UTC))}</tev:CurrentTime>"
                    f"<tev:TerminationTime>{_stamp(until)}</tev:TerminationTime>{''.join(messages)}"
                    "</tev:PullMessagesResponse>"
                )
            if action == "Renew":
                seconds = self._granted(_seconds(_element(body, "TerminationTime"), 60))
                sub.until = time.monotonic() + seconds
                self.renewals += 1
                return 200, (
                    f"<wsnt:RenewResponse><wsnt:TerminationTime>{_stamp(now + timedelta(seconds=seconds))}"
                    f"</wsnt:TerminationTime><wsnt:CurrentTime>{_stamp(now)}</wsnt:CurrentTime></wsnt:RenewResponse>"
                )
            if action == "Unsubscribe":
                self._subs.pop(sub_id, None)
                self.unsubscribed += 1
                self._changed.notify_all()
                return 200, "<wsnt:UnsubscribeResponse/>"
            if action == "SetSynchronizationPoint":
                return 200, "<tev:SetSynchronizationPointResponse/>"
        return 400, _FAULT.format(reason=f"Action not supported: {action or 'none'}")

    def adjust(self, action: str, body: str, answer: str | None) -> str | None:
        """ipycam's answers, as this device differs: its event service advertised, fewer profiles, an
        edge recorder's second channel with a video source of its own."""
        if answer is None:
            return None
        events_url = f"http://127.0.0.1:{self.port}/onvif/events_service"
        if self.events and "GetServicesResponse" in answer:
            service = (
                f"<tds:Service><tds:Namespace>{_EVENTS_NS}</tds:Namespace><tds:XAddr>{events_url}</tds:XAddr>"
                "<tds:Version><tt:Major>2</tt:Major><tt:Minor>5</tt:Minor></tds:Version></tds:Service>"
            )
            answer = answer.replace("</tds:GetServicesResponse>", f"{service}</tds:GetServicesResponse>")
        if self.events and "GetCapabilitiesResponse" in answer:
            events = (
                f"<tt:Events><tt:XAddr>{events_url}</tt:XAddr><tt:WSSubscriptionPolicySupport>false"
                "</tt:WSSubscriptionPolicySupport><tt:WSPullPointSupport>true</tt:WSPullPointSupport>"
                "<tt:WSPausableSubscriptionManagerInterfaceSupport>false"
                "</tt:WSPausableSubscriptionManagerInterfaceSupport></tt:Events>"
            )
            answer = answer.replace("<tt:Media>", f"{events}<tt:Media>", 1)
        if "GetProfilesResponse" in answer:
            blocks = re.findall(r"<trt:Profiles\b.*?</trt:Profiles>", answer, flags=re.S)
            for index, block in enumerate(blocks):
                if index >= self.profiles:
                    answer = answer.replace(block, "")
                elif self.nvr and index == 1:
                    answer = answer.replace(
                        block, block.replace('token="VSC_1"', 'token="VSC_2"').replace(">VS_1<", ">VS_2<")
                    )
        return answer

    def start(self) -> OnvifDevice:
        self.port = self.port or free_tcp_port()
        config = CameraConfig(
            name="Sim ONVIF camera",
            local_ip="127.0.0.1",
            onvif_port=self.port,
            rtsp_port=self.sim.port,
            main_stream_name=self.mount,
            sub_stream_name=self.sub_mount or self.mount,
        )
        config.set_credentials(self.username, self.password)
        self._config = config
        # The handler reads `camera.config` and `camera.onvif` only (on the /onvif/ path).
        camera = SimpleNamespace(config=config, onvif=_Service(config, self))
        handler = type("Handler", (_Handler,), {"camera": camera, "device": self})
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="onvif-sim", daemon=True).start()
        return self

    def stop(self) -> None:
        self.stop_subscriptions()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class _Service(ONVIFService):
    """ipycam's device and media answers, adjusted by the OnvifDevice (events, profiles, channels)."""

    def __init__(self, config: CameraConfig, device: OnvifDevice) -> None:
        super().__init__(config)
        self.device = device

    def handle_action(self, action: str, body: str) -> str | None:
        return self.device.adjust(action, body, super().handle_action(action, body))


class _Handler(IPCameraHTTPHandler):
    device: OnvifDevice

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        path = self.path.split("?", 1)[0]
        if not (path.startswith("/onvif/events_service") or path.startswith("/onvif/pullpoint/")):
            super().do_POST()
            return
        length = min(int(self.headers.get("Content-Length", 0) or 0), 1024 * 1024)
        body = self.rfile.read(length).decode("utf-8", "replace")
        if not self.device.events:
            status, answer = 404, _FAULT.format(reason="No event service")
        elif not self.camera.onvif.verify_usernametoken(body):
            status, answer = 401, _FAULT.format(reason="Sender not authorized")
        else:
            status, answer = self.device.events_answer(path, body)
        data = _ENVELOPE.format(body=answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/soap+xml; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def device_from_args(argv: list[str] | None = None) -> OnvifDevice:
    """The OnvifDevice that `python -m demo.onvif_sim --port 8580 --rtsp-port 8554 --mount cam1
    [--sub-mount cam2] --user admin --password secret` serves (not started yet)."""
    import argparse
    from types import SimpleNamespace

    parser = argparse.ArgumentParser(description="A simulated ONVIF camera on loopback.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--rtsp-port", type=int, required=True)
    parser.add_argument("--mount", required=True)
    parser.add_argument("--sub-mount", default="")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", required=True)
    args = parser.parse_args(argv)
    return OnvifDevice(
        SimpleNamespace(port=args.rtsp_port),
        mount=args.mount,
        sub_mount=args.sub_mount,
        username=args.user,
        password=args.password,
        port=args.port,
    )


def main(argv: list[str] | None = None) -> None:
    """Serve until interrupted (the demo's ONVIF camera)."""
    import signal

    device = device_from_args(argv).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(f"ONVIF camera on http://127.0.0.1:{device.port}/onvif/device_service", flush=True)
    stop.wait()
    device.stop()


if __name__ == "__main__":
    main()
