"""An ONVIF camera on loopback for the tests: ipycam's SOAP side (device + media service) in front of
a SimCamera's RTSP mount.

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

from workers.rtsp_sim import SimCamera, free_tcp_port


@dataclass
class OnvifDevice:
    """ONVIF SOAP on http://127.0.0.1:<port>/onvif/device_service, advertising `sim`'s mount `mount`."""

    sim: SimCamera
    mount: str = "cam1"
    sub_mount: str = ""  # the second media profile (an edge recorder's channel 2); the main mount if blank
    username: str = "admin"
    password: str = "secret"
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
