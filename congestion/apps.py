from django.apps import AppConfig


class CongestionConfig(AppConfig):
    name = "congestion"
