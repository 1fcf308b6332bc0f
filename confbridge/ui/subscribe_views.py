"""The subscribe page ("Đăng ký lịch"): a person's own feed and one feed per endpoint, created, copied
(webcal:// and https:// links) and revoked.  Thin: the rules are ``invites.subscriptions``."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from confbridge.api.common import db
from confbridge.auth.web import current_user
from confbridge.directory.models import Endpoint
from confbridge.directory.service import list_endpoints
from confbridge.errors import InvalidInput
from confbridge.invites import subscriptions
from confbridge.invites.feeds import feed_url
from confbridge.invites.subscriptions import FeedTarget
from confbridge.ui.roles import ANY_ROLE, page_roles

bp = Blueprint("subscribe", __name__)


def webcal(url: str) -> str:
    """The same feed for calendar apps that subscribe on a click (webcal:// is http(s) by convention)."""
    return "webcal://" + url.split("://", 1)[1]


def _render(created: dict[str, str] | None = None, error: str | None = None, status: int = 200) -> ResponseReturnValue:
    user = current_user()
    feeds = [(row, FeedTarget.of(row)) for row in subscriptions.list_feeds(db(), user) if not row.revoked]
    endpoints = (list_endpoints(db(), include_disabled=False)
                 if subscriptions.may_subscribe_to_endpoints(user) else [])
    by_endpoint: dict[str, list[int]] = {}
    for row, feed in feeds:
        if feed.kind == "endpoint":
            by_endpoint.setdefault(feed.target, []).append(row.id)
    personal = [row for row, feed in feeds if feed.kind == "user" and feed.target == user.username]
    return render_template(
        "subscribe/subscribe.html", personal=personal, endpoints=endpoints, by_endpoint=by_endpoint,
        created=created, error=error, active_nav="subscribe",
    ), status


@bp.get("/subscribe")
@page_roles(*ANY_ROLE)
def page() -> ResponseReturnValue:
    return _render()


@bp.post("/subscribe")
@page_roles(*ANY_ROLE)
def create() -> ResponseReturnValue:
    """Create a feed and show its links once (rendered, never stored in the session or a redirect)."""
    kind = request.form.get("kind", "")
    raw_id = request.form.get("endpoint_id", "")
    endpoint_id = int(raw_id) if raw_id.isdigit() and len(raw_id) < 10 else None
    try:
        token, row = subscriptions.create_feed(db(), current_user(), kind, endpoint_id=endpoint_id)
    except InvalidInput:
        db().rollback()
        return _render(error=_("Không tạo được liên kết: chọn lịch cá nhân hoặc một điểm cầu có trong danh sách."),
                       status=422)
    feed = FeedTarget.of(row)
    url = feed_url(feed, token)
    endpoint = db().get(Endpoint, int(feed.target)) if feed.kind == "endpoint" else None
    name = endpoint.name if endpoint is not None else _("Lịch họp của tôi")
    return _render(created={"https": url, "webcal": webcal(url), "name": name})


@bp.post("/subscribe/<int:feed_id>/revoke")
@page_roles(*ANY_ROLE)
def revoke(feed_id: int) -> ResponseReturnValue:
    subscriptions.revoke_feed(db(), current_user(), feed_id)
    flash(_("Đã thu hồi liên kết. Lịch đăng ký bằng liên kết này sẽ không cập nhật nữa."), "success")
    return redirect(url_for("subscribe.page"))
