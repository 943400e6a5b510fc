"""A simulated ONVIF camera / edge recorder on loopback, for the tests and the demo: ipycam's SOAP side
(device + media service) in front of a simulated RTSP camera's mounts (demo/sim_camera.py).

ipycam 1.3.0 is a whole virtual camera (go2rtc streaming, WS-Discovery multicast, a web UI); only its
SOAP answers are used here: `ipycam.ONVIFService` behind `ipycam.IPCameraHTTPHandler`, served by a
plain ThreadingHTTPServer bound to 127.0.0.1. No `IPCamera` is started, so there is no discovery,
no go2rtc and nothing leaves loopback. The advertised addresses (`local_ip`) are forced to loopback.
"""

from __future__ import annotations

import http.server
import threading
from dataclasses import dataclass, field
from types import SimpleNamespace

from ipycam import CameraConfig, IPCameraHTTPHandler, ONVIFService

from demo.rtsp_sim import free_tcp_port


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
    _server: http.server.ThreadingHTTPServer | None = field(default=None, init=False, repr=False)

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
        # The handler reads `camera.config` and `camera.onvif` only (on the /onvif/ path).
        camera = SimpleNamespace(config=config, onvif=ONVIFService(config))
        handler = type("Handler", (IPCameraHTTPHandler,), {"camera": camera})
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="onvif-sim", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


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
