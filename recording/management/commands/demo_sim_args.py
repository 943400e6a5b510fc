"""Print the workers/sim_camera.py arguments for the demo cameras (used by bin/demo)."""

import shlex

from django.core.management.base import BaseCommand

from recording.demo import sim_camera_args


class Command(BaseCommand):
    help = "Print the simulated-camera arguments (one mount per demo camera)."

    def handle(self, *args, **options) -> None:
        self.stdout.write(shlex.join(sim_camera_args()))
