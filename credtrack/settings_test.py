"""Settings for the test suite: the real settings plus what tests need to be fast and hermetic.

DATABASE_URL / REDIS_URL from the environment still apply, so CI runs the suite on PostgreSQL and Redis.
"""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("SECRET_KEY", "test-only-secret-key")
os.environ.setdefault("TIME_ZONE", "America/New_York")

from credtrack.settings import *  # noqa: F403
from credtrack.settings import REDIS_URL

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
PRIVATE_MEDIA_ROOT = MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="credtrack-test-media-"))
SITE_URL = "https://credtrack.example.org"
SECURE_SSL_REDIRECT = False
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
# Tests run tasks in-process unless a test starts a real worker against REDIS_URL.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = REDIS_URL or "memory://"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
WHITENOISE_USE_FINDERS = WHITENOISE_AUTOREFRESH = True
