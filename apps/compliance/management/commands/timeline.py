import sys

from django.core.management.base import BaseCommand
from tqdm import tqdm

from apps.compliance import timeline_store


class Command(BaseCommand):
    help = (
        "Rebuild every employee's stored status periods in the foreground (after loading data by hand), or with "
        "--sync run the nightly job: take in what changed since the last sync and move the horizon."
    )

    def add_arguments(self, parser):
        parser.add_argument("--sync", action="store_true", help="The nightly job instead of a full rebuild.")

    def handle(self, *args, **options):
        if options["sync"]:
            report = timeline_store.sync()
            if report is None:
                self.stdout.write("No periods yet: run this command without --sync first.")
            else:
                self.stdout.write(f"Timeline: {report}.")
            return
        with tqdm(unit="chunks", file=sys.stderr, disable=options["verbosity"] < 1) as bar:

            def progress(done, total):
                bar.total = total
                bar.update(1)

            state = timeline_store.rebuild_all(progress=progress)
        self.stdout.write(self.style.SUCCESS(f"Status periods rebuilt, exact until {state.horizon}."))
