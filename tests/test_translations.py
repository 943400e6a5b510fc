"""Japanese and English are both complete: every catalogue is up to date and fully translated.

For each catalogue, makemessages is run again on a copy of its sources; a string in the code
that is missing from the committed catalogue, an empty msgstr or a fuzzy entry fails the test.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings

from tests.waiting import patience

BASE = Path(settings.BASE_DIR)
# catalogue folder -> the source folders it covers
CATALOGUES = {BASE / "locale": [BASE / "templates", BASE / "portal"]}
for app_locale in sorted(BASE.glob("*/locale")):
    if app_locale.parent.name != "locale" and (app_locale.parent / "apps.py").exists():
        CATALOGUES[app_locale] = [app_locale.parent]


def _po(locale_dir: Path) -> Path:
    return locale_dir / "ja" / "LC_MESSAGES" / "django.po"


@pytest.mark.parametrize("locale_dir", list(CATALOGUES), ids=lambda p: str(p.relative_to(BASE)))
def test_every_string_is_translated_to_japanese(locale_dir):
    catalogue = polib.pofile(str(_po(locale_dir)))
    untranslated = [e.msgid for e in catalogue if not e.obsolete and not e.translated()]
    fuzzy = [e.msgid for e in catalogue if "fuzzy" in e.flags]
    assert not untranslated, f"untranslated in {_po(locale_dir)}: {untranslated[:10]}"
    assert not fuzzy, f"fuzzy in {_po(locale_dir)}: {fuzzy[:10]}"


@pytest.mark.parametrize("locale_dir", list(CATALOGUES), ids=lambda p: str(p.relative_to(BASE)))
def test_every_string_in_the_code_is_in_the_catalogue(locale_dir, tmp_path):
    work = tmp_path / "src"
    work.mkdir()
    for source in CATALOGUES[locale_dir]:
        shutil.copytree(source, work / source.name, ignore=shutil.ignore_patterns("locale", "__pycache__"))
    (work / "locale").mkdir()
    env = {**os.environ, "PYTHONPATH": str(BASE), "DJANGO_SETTINGS_MODULE": "portal.settings.test"}
    subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "-l", "ja", "-v", "0"],
        cwd=work,
        env=env,
        check=True,
        timeout=patience(120),
    )
    fresh = {e.msgid for e in polib.pofile(str(_po(work / "locale")))}
    committed = {e.msgid for e in polib.pofile(str(_po(locale_dir))) if not e.obsolete}
    missing = sorted(fresh - committed)
    assert not missing, f"run makemessages for {locale_dir}: missing {missing[:10]}"
