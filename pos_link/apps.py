from django.apps import AppConfig


class PosLinkConfig(AppConfig):
    name = "pos_link"
