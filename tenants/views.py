"""Placeholder views; replaced by the accounts work."""

from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST


def login_view(request):
    if request.method == "POST":
        user = authenticate(request, email=request.POST.get("email"), password=request.POST.get("password"))
        if user:
            login(request, user)
            return redirect("home")
    return render(request, "tenants/login.html", {})


@require_POST
def logout_view(request):
    logout(request)
    return redirect("tenants:login")


@login_required
def password_change_view(request):
    return HttpResponse("todo")


@login_required
def account_view(request):
    return HttpResponse("todo")


@login_required
def user_list_view(request):
    return HttpResponse("todo")


def invitation_accept_view(request, token):
    return HttpResponse("todo")
