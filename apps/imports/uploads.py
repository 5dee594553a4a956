"""Import files between the admin's preview and its confirmation: kept in a private folder of their own.

They hold personal data, so not in the shared /tmp; and a folder of their own can be swept safely. A file
is removed when its import is confirmed, when its preview cannot be confirmed (errors, an unreadable
sheet), and otherwise (HR never confirmed) by the daily sweep once older than UPLOAD_MAX_AGE.
"""

import datetime
import os
import tempfile
import time
from pathlib import Path

from django.conf import settings
from import_export.tmp_storages import TempFolderStorage

UPLOAD_MAX_AGE = datetime.timedelta(days=1)


def upload_folder() -> Path:
    return Path(settings.PRIVATE_MEDIA_ROOT) / "import-uploads"


class PrivateUploadStorage(TempFolderStorage):
    def get_full_path(self) -> str:
        # The name comes back from the confirmation form: only a bare file name inside the folder is honoured.
        return str(upload_folder() / os.path.basename(self.name))

    def _open(self, mode="r"):
        if self.name:
            return open(self.get_full_path(), mode, encoding=self.encoding)
        upload_folder().mkdir(parents=True, exist_ok=True)
        file = tempfile.NamedTemporaryFile(delete=False, dir=upload_folder(), prefix="import-")  # noqa: SIM115
        self.name = os.path.basename(file.name)
        return file

    def remove(self) -> None:
        Path(self.get_full_path()).unlink(missing_ok=True)


def uploads_sweep(*, older_than: datetime.timedelta = UPLOAD_MAX_AGE) -> int:
    """Remove previews nobody confirmed. Returns how many files went."""
    folder = upload_folder()
    if not folder.is_dir():
        return 0
    limit = time.time() - older_than.total_seconds()
    removed = 0
    for path in folder.iterdir():
        if path.is_file() and path.stat().st_mtime < limit:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def job_folder() -> Path:
    """Uploads confirmed for a background import: apart from the previews, so their sweep never takes one."""
    return Path(settings.PRIVATE_MEDIA_ROOT) / "import-jobs"


def keep_for_job(preview_name: str) -> str:
    """Move a confirmed preview's upload to the jobs folder; returns its name there."""
    job_folder().mkdir(parents=True, exist_ok=True)
    name = os.path.basename(preview_name)
    os.replace(PrivateUploadStorage(name=name).get_full_path(), job_folder() / name)
    return name


def job_file(name: str) -> Path:
    return job_folder() / os.path.basename(name)


def job_files_sweep(*, keep: set[str], older_than: datetime.timedelta = UPLOAD_MAX_AGE) -> int:
    """Remove kept uploads no unfinished job refers to (a confirmation whose transaction rolled back)."""
    folder = job_folder()
    if not folder.is_dir():
        return 0
    limit = time.time() - older_than.total_seconds()
    removed = 0
    for path in folder.iterdir():
        if path.is_file() and path.name not in keep and path.stat().st_mtime < limit:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
