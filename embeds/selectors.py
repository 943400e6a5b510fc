"""Reads behind the public embed pages and generated sites, and the embed admin pages.

Public pages have no user and no operator: the unguessable key IS the permission. A key that is
malformed, unknown, or whose camera / group / site was deleted gives None (the views answer a bare
404). What a public page may learn is only what the operator chose to show: the image, its analysis
time, the status label, the count when `show_count`, and the prediction ratios. Never a name, id or
anything else of the operator.

The image endpoint is the hot path (every embed view, every minute): one query resolves the key
with everything it needs joined in.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

import congestion
from congestion import rules, selectors
from congestion.models import AlertSetting, CongestionCamera, Group, Prediction, PublicImage
from licensing.models import License, LicenseKind
from licensing.selectors import option_license_count, today
from tenants.models import Operator, User

from . import quota
from .models import CallCount, EmbedSetting, GroupSite, QuotaNoticeDismissal, View

KEY_RE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
# The waiting / off-hours / alert template images are congestion's own (its pages show them too).
STATIC_IMAGES = Path(congestion.__file__).resolve().parent / "static" / "congestion"
LIMIT_IMAGE = Path(__file__).resolve().parent / "static" / "embeds" / "limit-reached.png"
NO_DATA_IMAGE = LIMIT_IMAGE.with_name("no-data.png")
TEMPLATE = "template"
WINDOW_SLOTS = 24  # the prediction graph shows 6 hours at a time, moved with ◀ ▶


@lru_cache(maxsize=16)
def static_bytes(path: str) -> bytes:
    return Path(path).read_bytes()


def default_image(name: str) -> bytes:
    return static_bytes(str(STATIC_IMAGES / name))


def limit_image() -> bytes:
    return static_bytes(str(LIMIT_IMAGE))


# ----------------------------------------------------------------------------- options


@dataclass(frozen=True)
class Options:
    show_visualization: bool = True
    show_prediction: bool = True
    initial_view: str = View.VISUALIZATION
    size_mode: str = "fixed"
    auto_refresh: bool = True
    show_count: bool = True

    @property
    def views(self) -> list[str]:
        out = []
        if self.show_visualization:
            out.append(View.VISUALIZATION.value)
        if self.show_prediction:
            out.append(View.PREDICTION.value)
        return out or [View.VISUALIZATION.value]

    @property
    def first_view(self) -> str:
        return self.initial_view if self.initial_view in self.views else self.views[0]


def options_of(setting: EmbedSetting | GroupSite | None, *, show_count: bool | None = None) -> Options:
    if setting is None:
        return Options()
    return Options(
        show_visualization=setting.show_visualization,
        show_prediction=setting.show_prediction,
        initial_view=setting.initial_view,
        size_mode=getattr(setting, "size_mode", "fixed"),
        auto_refresh=setting.auto_refresh,
        show_count=getattr(setting, "show_count", True) if show_count is None else show_count,
    )


# Options chosen per snippet travel in its URL (?o=…), signed with SECRET_KEY and salted with the embed
# key: a visitor cannot change them, and the snippet keeps them when the saved default changes later.
# Six characters: image, prediction (0/1), first view (v/p), size (f/h/s), auto refresh, count (0/1).
OPTIONS_PARAM = "o"
_SIZES = {"fixed": "f", "scale_hd": "h", "scale": "s"}


def _signer(key: str):
    from django.core.signing import Signer

    return Signer(salt=f"embeds.options:{key}")


def options_token(key: str, options: Options) -> str:
    code = "".join(
        [
            "1" if options.show_visualization else "0",
            "1" if options.show_prediction else "0",
            "p" if options.initial_view == View.PREDICTION else "v",
            _SIZES.get(options.size_mode, "f"),
            "1" if options.auto_refresh else "0",
            "1" if options.show_count else "0",
        ]
    )
    return _signer(key).sign(code)


def options_from_token(key: str, token: str) -> Options | None:
    """The options a snippet's token carries, or None when it was changed (bad signature) or is malformed."""
    from django.core.signing import BadSignature

    try:
        code = _signer(key).unsign(token)
    except BadSignature:
        return None
    sizes = {v: k for k, v in _SIZES.items()}
    if len(code) != 6 or code[3] not in sizes or set(code[:2] + code[4:]) - {"0", "1"} or code[2] not in "vp":
        return None
    return Options(
        show_visualization=code[0] == "1",
        show_prediction=code[1] == "1",
        initial_view=View.PREDICTION if code[2] == "p" else View.VISUALIZATION,
        size_mode=sizes[code[3]],
        auto_refresh=code[4] == "1",
        show_count=code[5] == "1",
    )


# ----------------------------------------------------------------------------- public targets


@dataclass
class Target:
    """What one public embed (or one camera of a generated site) shows."""

    operator_id: int
    camera: CongestionCamera  # the camera whose image and hours are used (a group's default camera)
    group: Group | None
    options: Options

    @property
    def owner(self):
        return self.group or self.camera


def _valid(key: str) -> bool:
    return bool(KEY_RE.match(key or ""))


def _one_to_one(obj, name: str):
    try:
        return getattr(obj, name)
    except Exception:  # noqa: BLE001 - RelatedObjectDoesNotExist of a reverse one-to-one: "none set"
        return None


# The hot path: every embed view, every minute. One hand-written query instead of the ORM's
# select_related (whose SQL compilation cost more than PostgreSQL's answer in bench/embed_bench.py).
CAMERA_BY_KEY = """
SELECT c.id, c.operator_id, c.hours_enabled, c.offhours_image, c.embed_key,
       p.id, p.image, p.count, p.captured_at, p.analysed_at,
       e.id, e.show_visualization, e.show_prediction, e.initial_view, e.size_mode, e.auto_refresh, e.show_count,
       a.id, a.steps, a.thresholds, a.image_enabled, a.images, c.enabled
FROM congestion_congestioncamera c
LEFT JOIN congestion_publicimage p ON p.congestion_camera_id = c.id
LEFT JOIN congestion_embedsetting e ON e.congestion_camera_id = c.id
LEFT JOIN congestion_alertsetting a ON a.congestion_camera_id = c.id
WHERE c.embed_key = %s
"""


def _json(value):
    return json.loads(value) if isinstance(value, str) else value  # SQLite hands JSON back as text


def _datetime(value):
    """A timestamp column as an aware datetime: SQLite hands back naive UTC text, PostgreSQL aware values."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return value


def _camera_by_key(key: str) -> CongestionCamera | None:
    with connection.cursor() as cursor:
        cursor.execute(CAMERA_BY_KEY, [key])
        row = cursor.fetchone()
    if row is None:
        return None
    cc = CongestionCamera(
        id=row[0], operator_id=row[1], hours_enabled=row[2], offhours_image=row[3], embed_key=row[4], enabled=row[22]
    )
    cache = cc._state.fields_cache  # set directly: assigning None through the descriptor caches nothing
    cache["public_image"] = (
        PublicImage(id=row[5], operator_id=row[1], congestion_camera_id=row[0], image=row[6], count=row[7],
                    captured_at=_datetime(row[8]), analysed_at=_datetime(row[9]))
        if row[5] is not None else None
    )  # fmt: skip
    cache["embed_setting"] = (
        EmbedSetting(id=row[10], operator_id=row[1], congestion_camera_id=row[0], show_visualization=row[11],
                     show_prediction=row[12], initial_view=row[13], size_mode=row[14], auto_refresh=row[15],
                     show_count=row[16])
        if row[10] is not None else None
    )  # fmt: skip
    cache["alert"] = (
        AlertSetting(id=row[17], operator_id=row[1], congestion_camera_id=row[0], steps=row[18],
                     thresholds=_json(row[19]), image_enabled=row[20], images=_json(row[21]))
        if row[17] is not None else None
    )  # fmt: skip
    return cc


def embed_target(key: str, token: str | None = None) -> Target | None:
    """The camera or group whose embed key is `key`, or None (malformed, unknown or deleted).

    `token`: the snippet's signed options (?o=); without one the saved setting (the default) applies.
    A token that does not verify gives None, a bare 404 like an unknown key: a visitor who edits the
    options in the URL gets nothing rather than another view."""
    if not _valid(key):
        return None
    chosen = None
    if token:
        chosen = options_from_token(key, token)
        if chosen is None:
            return None
    cc = _camera_by_key(key)
    if cc is not None:
        return Target(cc.operator_id, cc, None, chosen or options_of(_one_to_one(cc, "embed_setting")))
    group = (
        Group.objects.select_related(
            "default_camera", "default_camera__public_image", "default_camera__alert", "embed_setting", "alert"
        )
        .filter(embed_key=key)
        .first()
    )
    if group is None:
        return None
    return Target(
        group.operator_id, group.default_camera, group, chosen or options_of(_one_to_one(group, "embed_setting"))
    )


def site_by_key(key: str) -> GroupSite | None:
    if not _valid(key):
        return None
    return GroupSite.objects.select_related("group").filter(key=key).first()


def site_cameras(site: GroupSite) -> list[CongestionCamera]:
    """The group's cameras, in a stable order, each with what its own embed needs."""
    return list(
        site.group.cameras.select_related("public_image", "alert").order_by("display_name", "id")  # type: ignore[attr-defined]
    )


def site_target(site: GroupSite, index: int) -> Target | None:
    """Camera number `index` of a site. Each camera behaves as its own embed (its own hours and alerts)."""
    cameras = site_cameras(site)
    if not 0 <= index < len(cameras):
        return None
    return Target(site.operator_id, cameras[index], None, options_of(site, show_count=True))


# ----------------------------------------------------------------------------- what is shown now


class State:
    """What the image response says it shows (X-Embed-State)."""

    OK = "ok"  # a current analysis (or its alert image)
    CLOSED = "closed"  # outside business hours: the off-hours image
    NO_DATA = "nodata"  # disabled, over the license count, or no analysis in CONGESTION_STALE_MINUTES


@dataclass
class Shown:
    image: bytes
    count: int | None
    label: str
    analysed_at: datetime | None
    open: bool
    state: str = State.OK
    step: int = 0  # 1 空, 2 やや混雑, 3 混雑 (a 2-step 混雑 is 3, so one colour means one status); 0 = no label
    steps: int = 0


def _alert_image_bytes(setting: AlertSetting | None, step: int) -> bytes | None:
    if setting is None or not setting.image_enabled or step > len(setting.images):
        return None
    name = setting.images[step - 1]
    if not name:
        return None
    if name == TEMPLATE:
        # 3 steps: 空 / やや混雑 / 混雑 templates; 2 steps: 空 / 混雑.
        return default_image(f"alert-template-{step if setting.steps == 3 else (1 if step == 1 else 3)}.jpg")
    return _read(name)


def _read(name: str) -> bytes | None:
    from django.core.files.storage import default_storage

    if not name:
        return None
    try:
        with default_storage.open(name, "rb") as handle:
            return handle.read()
    except (FileNotFoundError, OSError):
        return None


def no_data_image() -> bytes:
    return static_bytes(str(NO_DATA_IMAGE))


_license_cache: dict[int, tuple[float, bool]] = {}


def over_license(operator_id: int) -> bool:
    """Whether the operator registered more congestion cameras than it holds licenses (then analysis
    stops for all of them). Cached a minute per process, like the quota: the image path is hot."""
    now = time.monotonic()
    hit = _license_cache.get(operator_id)
    if hit is not None and hit[0] > now:
        return hit[1]
    value = selectors.license_block(operator=Operator(pk=operator_id)) is not None
    _license_cache[operator_id] = (now + quota.QUOTA_CACHE_SECONDS, value)
    return value


def forget_caches() -> None:
    _license_cache.clear()


def is_current(cc: CongestionCamera, public: PublicImage | None, at: datetime) -> bool:
    """The group rule for one camera: enabled and captured within CONGESTION_STALE_MINUTES of `at`."""
    return bool(
        cc.enabled
        and public is not None
        and public.captured_at is not None
        and at - selectors.stale_after() < public.captured_at <= at
    )


def _status_step(step: int, steps: int) -> int:
    return 3 if steps == 2 and step >= 2 else step


def shown_now(target: Target, *, at: datetime | None = None) -> Shown:
    """The image a public embed shows now, with its count, label and analysis time.

    A public page must never mislead (docs/product.md §6.10): outside the camera's business hours it
    shows the off-hours image; when the camera is disabled, its operator is over its license count,
    or its latest analysis is older than CONGESTION_STALE_MINUTES, the "no current data" image. In
    both cases no count, no status label and no time. Otherwise the alert image of the current step
    when alert images are on, else the latest public image.

    A group uses its own alert settings and the summed count of its current cameras
    (congestion.selectors.group_current), with the default camera's image and hours; it has no
    current data when none of its cameras is current. When only the default camera is stale the
    count stays and the image is the alert image, or the "no current data" image."""
    at = at or timezone.now()
    cc = target.camera
    public = _one_to_one(cc, "public_image")
    is_open = not cc.hours_enabled or selectors.is_open_now(congestion_camera=cc, at=at)
    if not is_open:
        image = _read(cc.offhours_image) or default_image("offhours.jpg")
        return Shown(image, None, "", None, False, State.CLOSED)
    nothing = Shown(no_data_image(), None, "", None, True, State.NO_DATA)
    if over_license(target.operator_id):
        return nothing
    default_current = is_current(cc, public, at)
    if target.group is not None:
        setting = _one_to_one(target.group, "alert")
        current = selectors.group_current(group=target.group, at=at)
        if not current:
            return nothing
        count = sum(p.count for p in current)
        analysed_at = public.analysed_at if default_current else max(p.analysed_at or p.captured_at for p in current)
    else:
        if not default_current:
            return nothing
        setting = _one_to_one(cc, "alert")
        count = public.count
        analysed_at = public.analysed_at
    step = rules.step_for(count, setting.thresholds) if setting else 1
    label = rules.status_label(step, setting.steps) if setting else ""
    image = _alert_image_bytes(setting, step) or (_read(public.image) if default_current else no_data_image())
    return Shown(
        image=image or default_image("waiting.jpg"),
        count=count if target.options.show_count else None,
        label=label,
        analysed_at=analysed_at,
        open=True,
        step=_status_step(step, setting.steps) if setting else 0,
        steps=setting.steps if setting else 0,
    )


def prediction_payload(target: Target) -> dict:
    """Ratios per weekday and 15-minute slot (never the counts: the public sees shares of the y-max),
    the step of each slot, and the labels. Y-max = max(highest average, highest threshold)."""
    if target.group is not None:
        cameras = list(target.group.cameras.all())
        per_camera = [_averages(c) for c in cameras]
        enough = bool(per_camera) and all(per_camera)
        averages = rules.sum_predictions(per_camera) if enough else {}
        setting = _one_to_one(target.group, "alert")
    else:
        averages = _averages(target.camera)
        enough = bool(averages)
        setting = _one_to_one(target.camera, "alert")
    thresholds = list(setting.thresholds) if setting else []
    steps = setting.steps if setting else 0
    if not enough:
        return {"enough": False}
    top = max([*averages.values(), *thresholds, 1])
    days = []
    for weekday in range(7):
        ratios, step_of = [], []
        for slot in range(rules.SLOTS_PER_DAY):
            value = averages.get((weekday, slot), 0.0)
            ratios.append(round(value / top, 4))
            step_of.append(rules.step_for(round(value), thresholds) if steps else 0)
        days.append({"ratios": ratios, "steps": step_of})
    labels = [rules.status_label(s, steps) for s in range(1, steps + 1)] if steps else []
    local = timezone.localtime()
    for weekday, mask in open_slots(target.camera, local).items():
        days[weekday]["open"] = mask
    return {"enough": True, "days": days, "labels": labels, "today": local.weekday(), "now_slot": rules.slot_of(local)}


def open_slots(cc: CongestionCamera, local: datetime) -> dict[int, str]:
    """Per weekday, the 15-minute slots of the coming 7 days (today first) the camera is open in,
    as 96 "1"/"0" characters; empty when it has no business hours. The graph moves only over open
    slots (docs/product.md §6.10: 営業時間を設定している場合、時間外には移動できません). A group uses its
    default camera's hours, as for its image."""
    lines = selectors.hours_lines(congestion_camera=cc) if cc.hours_enabled else []
    if not lines:
        return {}
    holiday = lru_cache(maxsize=16)(rules.is_public_holiday)
    masks = {}
    for offset in range(7):
        day = local.date() + timedelta(days=offset)
        midnight = timezone.make_aware(datetime.combine(day, datetime.min.time()))
        moments = (midnight + timedelta(minutes=15 * slot + 7) for slot in range(rules.SLOTS_PER_DAY))
        masks[day.weekday()] = "".join(
            "1" if rules.is_open(lines, timezone.localtime(m), holiday=holiday) else "0" for m in moments
        )
    return masks


def _averages(cc: CongestionCamera) -> dict[tuple[int, int], float]:
    rows = Prediction.objects.filter(congestion_camera=cc).values_list("weekday", "slot", "average")
    return {(w, s): a for w, s, a in rows}


# ----------------------------------------------------------------------------- admin pages (scoped)


def embed_setting_of(*, congestion_camera: CongestionCamera | None = None, group: Group | None = None):
    owner = {"congestion_camera": congestion_camera} if congestion_camera is not None else {"group": group}
    return EmbedSetting.objects.filter(**owner).first()


def site_of(*, group: Group) -> GroupSite | None:
    return GroupSite.objects.filter(operator_id=group.operator_id, group=group).first()


def call_count_rows(*, operator: Operator) -> QuerySet[CallCount]:
    return CallCount.objects.for_operator(operator).order_by("-month")


def notice_dismissed(*, user: User, month) -> bool:
    return QuotaNoticeDismissal.objects.filter(operator_id=user.operator_id, user=user, month=month).exists()


def license_summary(*, operator: Operator, at: datetime | None = None) -> dict:
    """The license page section (docs/product.md §6.11): option licenses, their expiry (monthly terms), embed
    add-on ("API") licenses, calls this month and calls left."""
    day = today(at)
    options = License.objects.filter(
        customer=operator, kind=LicenseKind.CONGESTION_OPTION, starts_on__lte=day, ends_on__gte=day
    )
    usage = quota.usage(operator.pk, at=at)
    return {
        "licenses": option_license_count(operator, LicenseKind.CONGESTION_OPTION, at),
        "expires_on": options.order_by("ends_on").values_list("ends_on", flat=True).first(),
        "addons": option_license_count(operator, LicenseKind.EMBED_CALLS_ADDON, at),
        "usage": usage,
    }
