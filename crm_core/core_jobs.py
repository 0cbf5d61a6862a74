"""The kernel's own scheduled jobs, declared through ``core``'s ``register_jobs`` hook."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crm_core.declarations import JobDecl
from crm_core.duework import release_stale

if TYPE_CHECKING:
    from crm_core.kernel import Kernel


def outbox_retry(kernel: Kernel, fire_key: str) -> None:
    """Re-deliver failed plugin deliveries whose back-off has passed, then deliver events a
    process left pending (it died between commit and delivery)."""
    kernel.events.retry_due()
    kernel.events.sweep()


def due_work_release_stale(kernel: Kernel, fire_key: str) -> None:
    """Give due work claimed by a worker that died back to the other workers."""
    release_stale(kernel)


def notification_email(kernel: Kernel, fire_key: str) -> None:
    """Email the notifications that asked for it (each claimed once, sent once)."""
    from crm_core.services.notifications import deliver_emails

    deliver_emails(kernel)


def core_jobs() -> list[JobDecl]:
    return [
        JobDecl(
            "core.outbox_retry", outbox_retry, "interval", {"seconds": 30},
            misfire_grace_time=30,
            description="Retry failed event deliveries and deliver stranded outbox events",
        ),
        JobDecl(
            "core.due_work_release_stale", due_work_release_stale, "interval", {"minutes": 5},
            misfire_grace_time=300,
            description="Release due-work claims left by workers that died",
        ),
        JobDecl(
            "core.notification_email", notification_email, "interval", {"seconds": 30},
            misfire_grace_time=60,
            description="Email notifications through the configured SMTP server",
        ),
    ]
