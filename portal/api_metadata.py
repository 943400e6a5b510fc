"""OPTIONS on the API: what a route accepts, the same answer for every id.

DRF's SimpleMetadata looks the object up (`view.get_object()`) before describing a PUT, and most of
the portal's views look their objects up in their handlers, through `access_*`, with no queryset on
the view: there the lookup raised and OPTIONS answered 500. The description says nothing about the
object (only the serializer's fields), so none is looked up: any id answers the same, and another
operator's object stays unreachable (the handlers' 404). The role is still checked, so a view-only
user is not offered the writes.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions
from rest_framework.metadata import SimpleMetadata
from rest_framework.request import clone_request


class PortalMetadata(SimpleMetadata):
    def determine_actions(self, request, view) -> dict:
        actions = {}
        for method in {"PUT", "POST"} & set(view.allowed_methods):
            view.request = clone_request(request, method)
            try:
                view.check_permissions(view.request)
                serializer = _serializer_of(view)
                if serializer is not None:  # an upload or a file route has no fields to describe
                    actions[method] = self.get_serializer_info(serializer)
            except (exceptions.APIException, PermissionDenied, Http404):
                pass
            finally:
                view.request = request
        return actions


def _serializer_of(view):
    if not hasattr(view, "get_serializer"):
        return None
    from rest_framework.generics import GenericAPIView  # here: DRF loads this module while rest_framework.views loads

    own_class = type(view).get_serializer_class is not GenericAPIView.get_serializer_class
    if getattr(view, "serializer_class", None) is None and not own_class:
        return None
    return view.get_serializer()
