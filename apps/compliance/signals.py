"""Keep stored results current whatever path a change takes (admin, API, import, shell).

These handlers only queue a recompute after commit; the rules themselves live in engine.py.
Bulk writes (bulk_create) send no signals: their callers queue the recompute once themselves.
"""

from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from apps.certifications.models import CertificationType, Credential, Prerequisite, Requirement
from apps.organisation.models import Employee

from .tasks import queue_full_scan, queue_recompute
from .timeline_store import requirement_reach


@receiver([post_save, post_delete], sender=Credential)
def credential_changed(sender, instance, **kwargs):
    queue_recompute(employee_ids=[instance.employee_id])


@receiver(post_save, sender=Employee)
def employee_changed(sender, instance, **kwargs):
    queue_recompute(employee_ids=[instance.id])


@receiver([post_save, post_delete], sender=Requirement)
def requirement_changed(sender, instance, **kwargs):
    # Results and periods of whoever the requirement reaches, past holders of the role included (their periods
    # from the change day on, e.g. a transfer recorded ahead of time); nobody else's answer moves.
    queue_recompute(
        employee_ids=requirement_reach(
            requirement_id=instance.id, role_id=instance.role_id, department_id=instance.department_id
        )
    )


@receiver(m2m_changed, sender=Requirement.any_of.through)
def requirement_set_changed(sender, instance, action, **kwargs):
    if action in ("post_add", "post_remove", "post_clear") and isinstance(instance, Requirement):
        requirement_changed(Requirement, instance)


@receiver([post_save, post_delete], sender=CertificationType)
@receiver([post_save, post_delete], sender=Prerequisite)
def catalogue_changed(sender, **kwargs):
    if not kwargs.get("raw"):  # loaddata: the first scan after loading computes everything
        queue_full_scan()


@receiver(m2m_changed, sender=Prerequisite.any_of.through)
def prerequisite_set_changed(sender, action, **kwargs):
    if action in ("post_add", "post_remove", "post_clear"):
        queue_full_scan()
