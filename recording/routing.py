"""The recording app's WebSocket routes (portal/asgi.py serves them)."""

from django.urls import path

from .consumers import LiveConsumer

websocket_urlpatterns = [
    path("ws/live/<int:camera_id>/", LiveConsumer.as_asgi(), name="live_socket"),
]
