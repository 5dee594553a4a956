"""Who may call what. Reads are narrowed by scope in each view's queryset (out of scope => 404);
these classes decide the rest: anyone without a scope is refused, and writes are HR's.
"""

from rest_framework import permissions

from apps.organisation.scoping import is_hr_admin, oversees_anyone, request_scope

WRITE_ACTIONS = {"POST": "add", "PUT": "change", "PATCH": "change", "DELETE": "delete"}


def may_write(user, model, action: str) -> bool:
    """HR admins with the model's add/change/delete permission: a read-only HR login (or token) stays read-only."""
    opts = model._meta
    return is_hr_admin(user) and user.has_perm(f"{opts.app_label}.{action}_{opts.model_name}")


class InScope(permissions.BasePermission):
    """Reads for anyone with a scope (HR, a manager, an employee with a login); writes for HR only."""

    message = "Only HR may change this."

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        if request_scope(request).is_empty:
            self.message = "Your login is not linked to an employee or a department: there is nothing for you here."
            return False
        if request.method in permissions.SAFE_METHODS or request.method not in WRITE_ACTIONS:
            return True  # reads; or a method no endpoint has (TRACE...), which DRF then answers with 405
        action = getattr(view, "write_permissions", {}).get(
            getattr(view, "action", None), WRITE_ACTIONS[request.method]
        )
        return may_write(request.user, view.get_queryset().model, action)


class ManagerOrHR(InScope):
    """Roll-ups compare people: they are for managers (over their departments) and HR."""

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        scope = request_scope(request)
        if not oversees_anyone(scope):
            self.message = "Roll-ups are for managers and HR."
            return False
        return True
