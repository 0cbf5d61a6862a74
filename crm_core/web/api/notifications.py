"""``/api/v1/notifications``: the caller's in-app notifications."""

from __future__ import annotations

from pydantic import BaseModel, Field

from crm_core.services import notifications as svc
from crm_core.services.notifications import NotificationRead
from crm_core.web.api.models import IdPath, Page, PageQuery
from crm_core.web.api.operations import API, Call, Op
from crm_core.web.routing import AUTHENTICATED

N = f"{API}/notifications"


class NotificationListQuery(PageQuery):
    unread: bool = Field(default=False, description="only unread ones")


class NotificationPage(Page[NotificationRead]):
    unread_count: int = Field(description="your unread notifications (counted up to 100)")


class MarkedRead(BaseModel):
    marked: int = Field(description="how many notifications were marked read")


def list_notifications(c: Call) -> NotificationPage:
    q = c.query
    page = svc.list_notifications(c.ctx, cursor=q.cursor, limit=q.limit, unread_only=q.unread)
    return NotificationPage(items=page.items, next_cursor=page.next_cursor, limit=page.limit,
                            unread_count=svc.unread_count(c.ctx))


def mark_read(c: Call) -> NotificationRead:
    return svc.mark_read(c.ctx, c.path.id)


def mark_all_read(c: Call) -> MarkedRead:
    return MarkedRead(marked=svc.mark_all_read(c.ctx))


def operations() -> list[Op]:
    return [
        Op("GET", N, "listNotifications", "Your notifications", "notifications", AUTHENTICATED,
           list_notifications, "Newest first, keyset-paged; with your unread count.",
           query_model=NotificationListQuery, response_model=NotificationPage),
        Op("POST", f"{N}/{{id:int}}/read", "markNotificationRead", "Mark one notification read",
           "notifications", AUTHENTICATED, mark_read, "Another user's notification is not found.",
           path_model=IdPath, response_model=NotificationRead, errors=(404,)),
        Op("POST", f"{N}/read-all", "markAllNotificationsRead", "Mark all your notifications read",
           "notifications", AUTHENTICATED, mark_all_read, response_model=MarkedRead),
    ]
