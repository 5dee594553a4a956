"""Queue and deliver N renewal reminders to a local SMTP sink: messages per second and peak memory.

    createdb -h 127.0.0.1 -U postgres credtrack_notifybench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/credtrack_notifybench \\
        .venv/bin/python bench/send_reminders.py --counts 2000 10000
    dropdb -h 127.0.0.1 -U postgres credtrack_notifybench

For each count, each step in a fresh process: seed N staff whose BLS card expires in 30 days, with their
logins (so every reminder carries a personal sign-in link), and run the compliance scan; plan the reminders
(timed); deliver them (timed, peak RSS measured) over SMTP to an aiosmtpd sink running in its own process,
which counts what it accepts. Around each count, the floor (`smtp_floor` below, the SMTP floor of
docs/performance.md: smtplib sending ready-made messages over one connection to the same sink) is measured
twice and the faster kept. Memory is flat when the peak RSS of delivering 100k is about that of delivering 10k:
the outbox streams in batches.
The last lines read: reminders: N in X s (floor F s, ratio R), peak RSS M MB (planning plus one sender).

It empties the employees, credentials, compliance results and outbox of the database it is given, so it
refuses any database whose name does not end in "bench".
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import time

from _common import ROOT, django_setup, free_port, peak_rss_mb


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def seed(count: int) -> dict:
    import datetime

    from django.core.management import call_command
    from django.db import connection

    from apps.accounts.provisioning import accounts_provision
    from apps.certifications.models import CertificationType, Credential, Requirement
    from apps.compliance import services as compliance
    from apps.core import clock
    from apps.organisation.models import Department, Employee, Role

    name = connection.settings_dict["NAME"]
    if not str(name).endswith("bench"):
        raise SystemExit(f"refusing to empty database {name!r}: its name must end in 'bench'")
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        tables = [
            "notifications_notification",
            "compliance_requirementstatus",
            "compliance_employeestatus",
            "compliance_credentialfinding",
            "compliance_snapshot",
            "compliance_compliancerun",
            "certifications_credential",
            "certifications_historicalcredential",
            "organisation_employee",
            "organisation_historicalemployee",
            "auth_user",
        ]
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")

    started = time.perf_counter()
    today = clock.today()
    bls, _ = CertificationType.objects.get_or_create(
        code="BLS",
        defaults={
            "name": "Basic Life Support",
            "level": "basic",
            "validity_months": 24,
            "renewal_guidance": "Book a BLS renewal with an AHA training centre.",
        },
    )
    role, _ = Role.objects.get_or_create(code="bench-nurse", defaults={"name": "Bench nurse"})
    department, _ = Department.objects.get_or_create(code="bench-ward", defaults={"name": "Bench ward"})
    if not Requirement.objects.filter(role=role).exists():
        Requirement.objects.create(role=role).any_of.set([bls])
    hired = today - datetime.timedelta(days=900)
    expires = today + datetime.timedelta(days=30)
    for first in range(0, count, 5000):
        employees = Employee.objects.bulk_create(
            Employee(
                employee_number=f"B{n:07d}",
                first_name="Bench",
                last_name=f"Nurse {n}",
                email=f"nurse{n}@bench.example",
                role=role,
                department=department,
                hired_on=hired,
                assigned_on=hired,
            )
            for n in range(first, min(first + 5000, count))
        )
        Credential.objects.bulk_create(
            Credential(
                employee=employee,
                certification_type=bls,
                issued_on=expires - datetime.timedelta(days=730),
                expires_on=expires,
                verification="verified",
            )
            for employee in employees
        )
    # Every employee with an address has a login, so each reminder carries a personal sign-in link.
    accounts_provision()
    compliance.scan_run()
    return {"seed_and_scan_s": round(time.perf_counter() - started, 2)}


def plan() -> dict:
    from apps.notifications import planning

    started = time.perf_counter()
    report = planning.notifications_plan()
    return {
        "plan_s": round(time.perf_counter() - started, 2),
        "queued": report.created,
        "plan_peak_mb": round(peak_rss_mb(), 1),
    }


def deliver() -> dict:
    from django.conf import settings

    from apps.notifications import delivery

    baseline = rss_mb()
    cpu_before = _cpu_seconds()
    started = time.time()
    report = delivery.outbox_deliver()
    finished = time.time()
    return {
        "cpu_s": round(_cpu_seconds() - cpu_before, 2),
        "started": started,
        "finished": finished,
        "sent": report.sent,
        "batches": report.batches,
        "batch_size": settings.NOTIFICATIONS_SEND_BATCH,
        "baseline_mb": round(baseline, 1),
        "peak_mb": round(peak_rss_mb(), 1),
    }


def smtp_floor(count: int, port: int) -> dict:
    """The SMTP floor of docs/performance.md: `smtplib` sending ready-made small text+HTML emails over one connection,
    to the same sink, with no database and no templates. What any sender could reach here."""
    import smtplib
    from email.message import EmailMessage

    cpu_before = _cpu_seconds()
    started = time.perf_counter()
    smtp = smtplib.SMTP("127.0.0.1", port)
    for n in range(count):
        message = EmailMessage()
        message["From"] = "hr@example.org"
        message["To"] = f"staff{n}@example.org"
        message["Subject"] = "Your BLS expires in 30 days"
        message.set_content("Dear staff,\nyour BLS card expires on 2026-12-31.\n" * 5)
        message.add_alternative("<p>Dear staff,</p><p>your BLS card expires on 2026-12-31.</p>" * 5, subtype="html")
        smtp.send_message(message)
    smtp.quit()
    return {
        "floor_s": round(time.perf_counter() - started, 2),
        "cpu_ms_per_msg": round(1000 * (_cpu_seconds() - cpu_before) / count, 2),
        "peak_mb": round(peak_rss_mb(), 1),
    }


class _Counter:
    def __init__(self, accepted):
        self.accepted = accepted

    async def handle_DATA(self, server, session, envelope):
        with self.accepted.get_lock():
            self.accepted.value += 1
        return "250 Message accepted for delivery"


def _sink(port: int, accepted, ready) -> None:
    from aiosmtpd.controller import Controller

    controller = Controller(_Counter(accepted), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    try:
        asyncio.run(asyncio.Event().wait())
    finally:
        controller.stop()


def _command(name: str, *args: str) -> list[str]:
    return [sys.executable, __file__, "--step", name, *args]


def _result(output: str) -> dict:
    return json.loads(output.strip().splitlines()[-1])


def step(name: str, *args: str) -> dict:
    """Run one step in a fresh Python process, so each one's memory is its own."""
    env = {**os.environ, "LOG_LEVEL": "WARNING"}
    return _result(subprocess.run(_command(name, *args), check=True, capture_output=True, text=True, env=env).stdout)


def deliver_in_parallel(senders: int, email_url: str) -> dict:
    """`senders` delivery processes at once, as a worker with that concurrency runs the sender tasks.

    Timed from the first one starting to deliver to the last one done (not counting Python starting up).
    """
    env = {**os.environ, "EMAIL_URL": email_url, "LOG_LEVEL": "WARNING"}
    processes = [
        subprocess.Popen(_command("deliver"), stdout=subprocess.PIPE, text=True, env=env) for _ in range(senders)
    ]
    results = [_result(process.communicate()[0]) for process in processes]
    if any(process.returncode for process in processes):
        raise SystemExit("a delivery process failed")
    seconds = max(r["finished"] for r in results) - min(r["started"] for r in results)
    sent = sum(r["sent"] for r in results)
    return {
        "sent": sent,
        "deliver_s": round(seconds, 2),
        "per_s": round(sent / seconds),
        "batches": sum(r["batches"] for r in results),
        "cpu_ms_per_msg": round(1000 * sum(r["cpu_s"] for r in results) / sent, 2),
        "baseline_mb": max(r["baseline_mb"] for r in results),
        "peak_mb": max(r["peak_mb"] for r in results),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[2000, 10000])
    parser.add_argument("--senders", type=int, nargs="+", default=[1, 2], help="concurrent sender processes")
    parser.add_argument("--step", choices=["seed", "plan", "deliver", "floor"], help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    options = parser.parse_args()

    if options.step:
        # Not DEBUG: DEBUG keeps a log of every query, which is memory the real workers never spend.
        os.environ["DEBUG"] = "false"
        os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")
        os.environ.setdefault("EMAIL_URL", "dummymail://")
        django_setup()
        result = {
            "seed": lambda: seed(options.count),
            "plan": plan,
            "deliver": deliver,
            "floor": lambda: smtp_floor(options.count, options.port),
        }[options.step]()
        print(json.dumps(result))
        return

    # As a deployment does: DEBUG off serves static files through the collected manifest, and the emails'
    # links are reversed through URLs that name static files.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        check=True,
        env={**os.environ, "DEBUG": "false", "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-only-secret-key")},
    )
    port = free_port()
    accepted = multiprocessing.Value("i", 0)
    ready = multiprocessing.Event()
    sink = multiprocessing.Process(target=_sink, args=(port, accepted, ready), daemon=True)
    sink.start()
    ready.wait(10)
    try:
        print(f"SMTP sink (aiosmtpd, own process) on 127.0.0.1:{port}")
        print(
            f"{'reminders':>9} {'senders':>7} {'plan':>6} {'deliver':>8} {'msg/s':>6} {'CPU/msg':>8} {'batches':>7} "
            f"{'RSS before':>10} {'peak RSS':>9} {'plan peak':>9} {'accepted':>8}"
        )
        headlines = []
        for count in options.counts:
            # The floor twice, before and after this count's runs, and the faster of the two kept: the
            # machine is shared, and the strictest floor is the honest one to compare with.
            floors = [step("floor", "--count", str(count), "--port", str(port))]
            runs = {}
            for senders in options.senders:
                step("seed", "--count", str(count))
                planned = step("plan")
                before = accepted.value
                delivered = deliver_in_parallel(senders, f"smtp://127.0.0.1:{port}")
                received = accepted.value - before
                runs[senders] = planned, delivered
                print(
                    f"{count:>9} {senders:>7} {planned['plan_s']:>5.1f}s {delivered['deliver_s']:>7.1f}s "
                    f"{delivered['per_s']:>6} {delivered['cpu_ms_per_msg']:>6.2f}ms {delivered['batches']:>7} "
                    f"{delivered['baseline_mb']:>8.1f}MB "
                    f"{delivered['peak_mb']:>7.1f}MB {planned['plan_peak_mb']:>7.1f}MB {received:>8}",
                    flush=True,
                )
                if received != count or delivered["sent"] != count:
                    raise SystemExit(f"expected {count} delivered, the sink accepted {received}")
            floors.append(step("floor", "--count", str(count), "--port", str(port)))
            floor = min(floors, key=lambda f: f["floor_s"])
            measured = " and ".join(f"{f['floor_s']:.1f}s" for f in floors)
            print(
                f"{count:>9} floor: smtplib, one connection, ready-made messages: {measured} "
                f"({count / floor['floor_s']:.0f} msg/s, CPU {floor['cpu_ms_per_msg']:.2f} ms/msg, "
                f"peak RSS {floor['peak_mb']:.0f} MB)",
                flush=True,
            )
            for senders, (_, delivered) in runs.items():
                if senders > 1:
                    print(
                        f"{count:>9} over {senders} senders: delivered in {delivered['deliver_s']:.1f} s "
                        f"(one-connection floor {floor['floor_s']:.1f} s, ratio "
                        f"{delivered['deliver_s'] / floor['floor_s']:.2f})"
                    )
            if 1 in runs:
                planned, delivered = runs[1]
                total = planned["plan_s"] + delivered["deliver_s"]
                peak = max(planned["plan_peak_mb"], delivered["peak_mb"])
                headlines.append(
                    f"reminders: {count} in {total:.1f} s (floor {floor['floor_s']:.1f} s, "
                    f"ratio {total / floor['floor_s']:.2f}), peak RSS {peak:.0f} MB"
                )
        for line in headlines:
            print(line)
    finally:
        sink.terminate()
        sink.join(5)


if __name__ == "__main__":
    main()
