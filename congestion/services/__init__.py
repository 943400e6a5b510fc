"""Writes of congestion visualization: cameras, images, groups, alerts, hours, analysis, prediction, CSV.

Each write checks everything before saving anything (bad input leaves no half-saved state); files
are written to storage only after validation and removed again when the transaction rolls back.

Split by topic (images, cameras, groups, alerts, hours, analysis, history); every name stays importable
from `congestion.services` as before, so callers write `services.camera_add(...)` unchanged.
"""

from .alerts import (
    ALERT_MAIL_CLAIM_TIMEOUT,
    alert_mail_send,
    alert_sender_set,
    alert_update,
    alerts_after_analysis,
    clean_recipients,
    pending_alert_mail_ids,
)
from .analysis import (
    analysis_run,
    analysis_store,
    default_background,
)
from .cameras import (
    CAMERA_ADD_CONFLICTS,
    background_set,
    camera_add,
    camera_remove,
    camera_update,
    grab_file_frame,
    grab_frame,
    offhours_image_set,
)
from .groups import (
    group_create,
    group_delete,
    group_update,
)
from .history import (
    camera_month_csv,
    csv_zip,
    prediction_recompute,
    purge_analyses,
    purge_monitoring,
)
from .hours import (
    group_hours_add,
    group_hours_delete,
    group_hours_set,
    group_hours_update,
    hours_enabled_set,
    hours_rule_add,
    hours_rule_delete,
    hours_rule_update,
)
from .images import (
    ALERT_IMAGE_MAX,
    ALERT_IMAGE_MAX_BYTES,
    ANALYSIS_KEEP_DAYS,
    BACKGROUND_MAX,
    BACKGROUND_MAX_BYTES,
    MONITORING_KEEP,
    TEMPLATE,
    check_jpeg_header,
    jpeg_dimensions,
    jpeg_upload_read,
    read_image,
    validate_jpeg,
)

__all__ = [
    "CAMERA_ADD_CONFLICTS",
    "ALERT_IMAGE_MAX",
    "ALERT_IMAGE_MAX_BYTES",
    "BACKGROUND_MAX",
    "BACKGROUND_MAX_BYTES",
    "MONITORING_KEEP",
    "ANALYSIS_KEEP_DAYS",
    "TEMPLATE",
    "validate_jpeg",
    "check_jpeg_header",
    "jpeg_dimensions",
    "jpeg_upload_read",
    "read_image",
    "camera_add",
    "camera_remove",
    "camera_update",
    "background_set",
    "grab_file_frame",
    "grab_frame",
    "offhours_image_set",
    "group_create",
    "group_update",
    "group_delete",
    "clean_recipients",
    "alert_update",
    "alert_sender_set",
    "ALERT_MAIL_CLAIM_TIMEOUT",
    "alert_mail_send",
    "pending_alert_mail_ids",
    "alerts_after_analysis",
    "hours_rule_add",
    "hours_rule_delete",
    "hours_enabled_set",
    "hours_rule_update",
    "group_hours_set",
    "group_hours_add",
    "group_hours_update",
    "group_hours_delete",
    "default_background",
    "analysis_run",
    "analysis_store",
    "prediction_recompute",
    "camera_month_csv",
    "csv_zip",
    "purge_monitoring",
    "purge_analyses",
]
