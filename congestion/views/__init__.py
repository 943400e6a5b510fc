"""Pages of the congestion console (docs/product.md §6).

Every object comes through congestion.selectors (another operator's id is a 404). Every role reads
the live images, counts, predictions, history and CSV; settings, groups, alerts, hours and the
monitoring of raw frames are for admins (403 otherwise). Each page shows why analysis is stopped
when the operator registered more cameras than it holds congestion option licenses.

Split by topic (cameras, alerts, hours, history, groups); congestion/urls.py and anything else keep
using `congestion.views.<name>`.
"""

from .alerts import (
    alert_sender_view,
    camera_alerts_view,
    group_alerts_view,
)
from .cameras import (
    camera_add_view,
    camera_background_image_view,
    camera_background_view,
    camera_detail_view,
    camera_image_view,
    camera_monitoring_frame_view,
    camera_monitoring_view,
    camera_remove_view,
    camera_settings_view,
    index_view,
)
from .common import (
    PAGE_SIZE,
    STATIC_IMAGES,
    camera_display_jpeg,
    camera_status,
)
from .groups import (
    group_add_view,
    group_delete_view,
    group_detail_view,
    group_edit_view,
    group_image_view,
    group_list_view,
    group_status,
)
from .history import (
    camera_csv_view,
    camera_history_view,
    camera_prediction_view,
    csv_all_view,
    group_csv_view,
    group_history_view,
    group_prediction_view,
)
from .hours import (
    camera_hours_view,
    camera_offhours_image_view,
    group_hours_rule_delete_view,
    group_hours_rule_edit_view,
    group_hours_view,
    hours_rule_delete_view,
    hours_rule_edit_view,
)

__all__ = [
    "camera_status",
    "camera_display_jpeg",
    "STATIC_IMAGES",
    "PAGE_SIZE",
    "index_view",
    "camera_add_view",
    "camera_detail_view",
    "camera_image_view",
    "camera_settings_view",
    "camera_background_view",
    "camera_background_image_view",
    "camera_monitoring_view",
    "camera_monitoring_frame_view",
    "camera_remove_view",
    "camera_alerts_view",
    "group_alerts_view",
    "alert_sender_view",
    "camera_hours_view",
    "hours_rule_delete_view",
    "hours_rule_edit_view",
    "group_hours_view",
    "group_hours_rule_edit_view",
    "group_hours_rule_delete_view",
    "camera_offhours_image_view",
    "camera_prediction_view",
    "group_prediction_view",
    "camera_history_view",
    "camera_csv_view",
    "csv_all_view",
    "group_history_view",
    "group_csv_view",
    "group_status",
    "group_list_view",
    "group_detail_view",
    "group_image_view",
    "group_add_view",
    "group_edit_view",
    "group_delete_view",
]
