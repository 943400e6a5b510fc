"""`manage.py mail_sink`: the demo's SMTP server. Mails land as .eml files in a folder and are
listed on the staff page /recording/staff/mails/. Point the portal at it with EMAIL_URL=smtp://127.0.0.1:1025."""

import logging
import time

from django.core.management.base import BaseCommand

from demo.mail_sink import MailSink
from recording.conf import mail_sink_dir


class Command(BaseCommand):
    help = "Receive mails on 127.0.0.1:<port> and store each as an .eml file (demo and development)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--port", type=int, default=1025)
        parser.add_argument("--dir", default=None, help="Folder for the .eml files (default RECORDING_MAIL_SINK_DIR).")

    def handle(self, *args, port: int, dir: str | None, **options) -> None:  # noqa: A002 (the option's name)
        folder = dir or mail_sink_dir()
        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command at INFO
        sink = MailSink(folder, host="127.0.0.1", port=port).start()
        self.stdout.write(f"mail sink on 127.0.0.1:{port}, storing into {folder}")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            sink.stop()
