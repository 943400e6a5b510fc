"""The one door: a malformed, out-of-range, missing or invisible id is the same 404."""

import pytest
from django.http import Http404

from devices.models import Device
from tenants.access import get_visible_or_404


@pytest.mark.parametrize("pk", ["x", None, "", "1.5", -1, 0, 2**63, "9" * 40])
def test_a_malformed_or_out_of_range_id_is_a_404(alpha, pk):
    with pytest.raises(Http404):
        get_visible_or_404(Device.objects.filter(operator=alpha.operator), pk)


def test_an_object_outside_the_visible_queryset_is_a_404_and_inside_it_is_returned(alpha, bravo):
    visible = Device.objects.filter(operator=alpha.operator)
    assert get_visible_or_404(visible, str(alpha.camera.pk)) == alpha.camera
    with pytest.raises(Http404):
        get_visible_or_404(visible, bravo.camera.pk)
