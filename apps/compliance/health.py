"""Health check: the last complete compliance scan is recent enough for reminders and dashboards to trust."""

import dataclasses
import datetime

from django.conf import settings
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable

from apps.core import clock

from .models import ComplianceRun


@dataclasses.dataclass
class LastScanAge(HealthCheck):
    """Fails when no scan has completed within COMPLIANCE_SCAN_MAX_AGE_HOURS (the nightly scan missed)."""

    def run(self):
        finished = (
            ComplianceRun.objects.filter(state=ComplianceRun.State.COMPLETE)
            .order_by("-finished_at")
            .values_list("finished_at", flat=True)
            .first()
        )
        if finished is None:
            raise ServiceUnavailable("no compliance scan has completed yet")
        age = clock.now() - finished
        if age > datetime.timedelta(hours=settings.COMPLIANCE_SCAN_MAX_AGE_HOURS):
            hours = age.total_seconds() / 3600
            raise ServiceUnavailable(f"the last complete compliance scan finished {hours:.0f} hours ago")
