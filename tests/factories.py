import datetime

import factory
from django.contrib.auth import get_user_model

from apps.certifications.models import CertificationType, Credential, Prerequisite, Requirement
from apps.organisation.models import Department, Employee, Role


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("password")


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"dept-{n}")
    name = factory.LazyAttribute(lambda d: d.code.upper())


class RoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Role
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"role-{n}")
    name = factory.LazyAttribute(lambda r: r.code.title())


class EmployeeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Employee

    employee_number = factory.Sequence(lambda n: f"E{n:06d}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda e: f"{e.employee_number.lower()}@example.org")
    role = factory.SubFactory(RoleFactory)
    department = factory.SubFactory(DepartmentFactory)
    hired_on = datetime.date(2020, 1, 6)
    assigned_on = factory.LazyAttribute(lambda e: e.hired_on)


class CertificationTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CertificationType
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"CERT{n}")
    name = factory.LazyAttribute(lambda t: f"{t.code} certification")
    level = CertificationType.Level.BASIC
    validity_months = 24


# Catalogue rules in a test world have been in force long before anyone was hired, unless a test
# says when they were recorded (`recorded_at=`): audits apply the catalogue as it stood on a day.
CATALOGUE_RECORDED_AT = datetime.datetime(2000, 1, 1, 12, 0, tzinfo=datetime.UTC)


class _CatalogueRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        abstract = True
        skip_postgeneration_save = True

    @classmethod
    def _create(cls, model_class, *args, recorded_at=CATALOGUE_RECORDED_AT, **kwargs):
        rule = model_class(*args, **kwargs)
        rule._history_date = recorded_at  # read by django-simple-history for the row and its any-of set
        rule.save()
        return rule

    @factory.post_generation
    def any_of(self, create, extracted, **kwargs):
        if create and extracted:
            self.any_of.set(extracted)

    @factory.post_generation
    def recorded(self, create, extracted, **kwargs):
        # Later edits in a test are recorded when they happen.
        self.__dict__.pop("_history_date", None)


class PrerequisiteFactory(_CatalogueRuleFactory):
    class Meta:
        model = Prerequisite

    certification_type = factory.SubFactory(CertificationTypeFactory)


class RequirementFactory(_CatalogueRuleFactory):
    class Meta:
        model = Requirement

    role = factory.SubFactory(RoleFactory)


class CredentialFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Credential

    employee = factory.SubFactory(EmployeeFactory)
    certification_type = factory.SubFactory(CertificationTypeFactory)
    issued_on = datetime.date(2025, 9, 5)
    expires_on = factory.LazyAttribute(lambda c: c.issued_on.replace(year=c.issued_on.year + 2))
    verification = Credential.Verification.VERIFIED
    issuer = "American Heart Association"
    card_number = factory.Sequence(lambda n: f"AHA-{n:08d}")
