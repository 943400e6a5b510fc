from django.http import HttpResponse
from django.urls import path

app_name = "buildings"


def _todo(request):
    return HttpResponse("todo")


urlpatterns = [
    path("", _todo, name="list"),
    path("register/", _todo, name="register"),
]
