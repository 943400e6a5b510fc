"""Writes of embeds and generated web sites, and the low-quota login notice.

Every write is admin-only and checks everything before saving anything.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _

from congestion.models import CongestionCamera, Group, new_embed_key
from tenants.access import require_admin
from tenants.models import User

from . import quota, selectors
from .models import EmbedSetting, GroupSite, LinkMode, QuotaNoticeDismissal, SizeMode, View


def _check_views(show_visualization: bool, show_prediction: bool, initial_view: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not (show_visualization or show_prediction):
        errors["show_visualization"] = [_("Choose at least one of the congestion image and the prediction.")]
    if initial_view not in View.values:
        errors["initial_view"] = [_("Choose the first view.")]
    elif (initial_view == View.VISUALIZATION and not show_visualization) or (
        initial_view == View.PREDICTION and not show_prediction
    ):
        errors["initial_view"] = [_("The first view must be one of the views shown.")]
    return errors


def snippet_options(
    *,
    show_visualization: bool,
    show_prediction: bool,
    initial_view: str,
    size_mode: str,
    auto_refresh: bool,
    show_count: bool,
) -> selectors.Options:
    """The options of one snippet (anyone of the operator may make one; nothing is saved). Same checks
    as the saved default; the views sign them into the snippet's URL (selectors.options_token)."""
    errors = _check_views(show_visualization, show_prediction, initial_view)
    if size_mode not in SizeMode.values:
        errors["size_mode"] = [_("Choose a size.")]
    if errors:
        raise ValidationError(errors)
    return selectors.Options(
        show_visualization=show_visualization, show_prediction=show_prediction, initial_view=initial_view,
        size_mode=size_mode, auto_refresh=auto_refresh, show_count=show_count,
    )  # fmt: skip


@transaction.atomic
def embed_setting_save(
    *,
    user: User,
    congestion_camera: CongestionCamera | None = None,
    group: Group | None = None,
    show_visualization: bool,
    show_prediction: bool,
    initial_view: str,
    size_mode: str,
    auto_refresh: bool,
    show_count: bool,
) -> EmbedSetting:
    require_admin(user)
    owner = congestion_camera or group
    assert owner is not None and (congestion_camera is None) != (group is None)
    errors = _check_views(show_visualization, show_prediction, initial_view)
    if size_mode not in SizeMode.values:
        errors["size_mode"] = [_("Choose a size.")]
    if errors:
        raise ValidationError(errors)
    setting = selectors.embed_setting_of(congestion_camera=congestion_camera, group=group)
    if setting is None:
        setting = EmbedSetting(operator_id=owner.operator_id, congestion_camera=congestion_camera, group=group)
    setting.show_visualization = show_visualization
    setting.show_prediction = show_prediction
    setting.initial_view = initial_view
    setting.size_mode = size_mode
    setting.auto_refresh = auto_refresh
    setting.show_count = show_count
    setting.updated_at = timezone.now()
    setting.save()
    return setting


@transaction.atomic
def embed_key_rotate(*, user: User, congestion_camera: CongestionCamera | None = None, group: Group | None = None):
    """Give the camera's or group's embed a new key: the old URL (page, image, prediction) is a 404
    from the commit on, since every public request looks the key up afresh and no answer is cached
    (Cache-Control: no-store). Pages that paste the old snippet must take the new one. Returns the
    owner with its new key. A group's generated web site keeps its own URL."""
    require_admin(user)
    owner = congestion_camera or group
    assert owner is not None and (congestion_camera is None) != (group is None)
    owner.embed_key = new_embed_key()
    owner.save(update_fields=["embed_key"])
    return owner


@transaction.atomic
def site_save(
    *,
    user: User,
    group: Group,
    enabled: bool,
    name: str = "",
    link_mode: str = LinkMode.NONE,
    link_title: str = "",
    link_description: str = "",
    link_url: str = "",
    show_visualization: bool = True,
    show_prediction: bool = True,
    initial_view: str = View.VISUALIZATION,
    auto_refresh: bool = True,
) -> GroupSite | None:
    """Turn the group's web site on (creating a new URL when it was off) and save its settings, or
    turn it off: that deletes the site and its URL for good (docs/product.md §6.12)."""
    require_admin(user)
    current = GroupSite.objects.select_for_update().filter(group=group).first()
    if not enabled:
        if current is not None:
            current.delete()
        return None
    errors = _check_views(show_visualization, show_prediction, initial_view)
    name = name.strip()
    if not name or len(name) > 64:
        errors["name"] = [_("Enter a site name of 1 to 64 characters.")]
    if link_mode not in LinkMode.values:
        errors["link_mode"] = [_("Choose how the external link is shown.")]
    elif link_mode != LinkMode.NONE:
        if not link_title.strip():
            errors["link_title"] = [_("Enter the title of the external link.")]
        try:
            URLValidator(schemes=["http", "https"])(link_url.strip())
        except ValidationError:
            errors["link_url"] = [_("Enter the link as a full http:// or https:// address.")]
    if errors:
        raise ValidationError(errors)
    site = current or GroupSite(operator_id=group.operator_id, group=group)
    site.name = name
    site.link_mode = link_mode
    site.link_title = link_title.strip()[:64]
    site.link_description = link_description.strip()[:200]
    site.link_url = link_url.strip()
    site.show_visualization = show_visualization
    site.show_prediction = show_prediction
    site.initial_view = initial_view
    site.auto_refresh = auto_refresh
    site.updated_at = timezone.now()
    site.save()
    return site


# ----------------------------------------------------------------------------- low-quota notice


def notice_dismiss(*, user: User) -> None:
    """Hide the low-quota notice for this user until the month (Asia/Tokyo) ends."""
    month = quota.month_of()
    try:
        with transaction.atomic():
            QuotaNoticeDismissal.objects.create(operator_id=user.operator_id, user=user, month=month)
    except IntegrityError:
        pass  # already dismissed: a second click changes nothing


def quota_login_notice(*, request, user: User) -> bool:
    """At login: when fewer than 5,000 embed calls are left this month and the user has not dismissed
    it this month, a warning with a link to dismiss it. True when the notice was added."""
    operator = getattr(user, "operator", None)
    if operator is None or operator.is_partner or not hasattr(request, "_messages"):
        return False
    usage = quota.usage(operator.pk)
    if not usage.low or selectors.notice_dismissed(user=user, month=usage.month):
        return False
    messages.warning(
        request,
        format_html(
            '{} <a href="{}">{}</a>',
            _(
                "Embed calls left this month: %(left)s of %(quota)s. When they run out, embeds show a "
                "“limit reached” image until the month ends."
            )
            % {"left": f"{usage.remaining:,}", "quota": f"{usage.quota:,}"},
            reverse("embeds:notice_dismiss"),
            _("Hide until the end of the month"),
        ),  # fmt: skip
    )
    return True


def on_user_logged_in(sender, request, user, **kwargs) -> None:
    """The `user_logged_in` receiver (connected in EmbedsConfig.ready)."""
    quota_login_notice(request=request, user=user)
