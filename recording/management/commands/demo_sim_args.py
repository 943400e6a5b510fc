"""Print the workers/sim_camera.py arguments for the demo cameras, or with --onvif those of
workers/onvif_sim.py for the demo's ONVIF camera (used by bin/demo)."""

import shlex

from django.core.management.base import BaseCommand

from recording.demo import onvif_sim_args, sim_camera_args


class Command(BaseCommand):
    help = "Print the simulated-camera arguments (one mount per demo camera), or --onvif the ONVIF side's."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--onvif", action="store_true", help="arguments of workers/onvif_sim.py")

    def handle(self, *args, onvif: bool = False, **options) -> None:
        self.stdout.write(shlex.join(onvif_sim_args() if onvif else sim_camera_args()))
