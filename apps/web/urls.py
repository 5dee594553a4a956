from django.urls import path

from .views import dashboards, people, self_service, verification

app_name = "web"

urlpatterns = [
    path("", self_service.home, name="home"),
    path("dashboard/", dashboards.dashboard, name="dashboard"),
    path("employees/", dashboards.employee_list, name="employee_list"),
    path("employees/<int:pk>/", people.employee_detail, name="employee_detail"),
    path("employees/<int:pk>/file/", people.person_file, name="person_file"),
    path("employees/<int:pk>/file.pdf", people.person_file_pdf, name="person_file_pdf"),
    path("matrix/", dashboards.matrix, name="matrix"),
    path("matrix/cell/", dashboards.matrix_cell, name="matrix_cell"),
    path("attention/", dashboards.attention, name="attention"),
    path("expiring/", dashboards.renewals, name="renewals"),
    path("forecast/", dashboards.forecast, name="forecast"),
    path("reports/audit/", dashboards.audit_report, name="audit_report"),
    path("me/", self_service.me, name="me"),
    path("me/credentials/upload/", self_service.upload_proof, name="upload_proof"),
    path("me/calendar/new/", self_service.calendar_link_create, name="calendar_link_create"),
    path("me/calendar/revoke/", self_service.calendar_link_revoke, name="calendar_link_revoke"),
    path("calendar/<str:secret>.ics", self_service.calendar_feed, name="calendar_feed"),
    path("verification/", verification.queue, name="verification_queue"),
    path("verification/<int:pk>/verify/", verification.verify, name="verification_verify"),
    path("verification/<int:pk>/reject/", verification.reject, name="verification_reject"),
]
