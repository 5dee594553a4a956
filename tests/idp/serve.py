"""Start the test IdP: migrate its database, make its signing key, one client and its people, then serve.

python -m tests.idp.serve PORT REDIRECT_URI CLIENT_ID CLIENT_SECRET  (people: PEOPLE env, "user:email;...")
"""

import os
import sys


def main(port: int, redirect_uri: str, client_id: str, client_secret: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.idp.settings"
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.core.servers.basehttp import run
    from django.core.wsgi import get_wsgi_application
    from oidc_provider.models import Client, ResponseType

    call_command("migrate", run_syncdb=True, verbosity=0)
    call_command("creatersakey")
    client = Client.objects.create(
        name="credtrack",
        client_type="confidential",
        client_id=client_id,
        client_secret=client_secret,
        jwt_alg="RS256",
        require_consent=False,
        _redirect_uris=redirect_uri,
        _scope="openid email profile",
    )
    code, _ = ResponseType.objects.get_or_create(
        value="code", defaults={"description": "code (Authorization Code Flow)"}
    )
    client.response_types.add(code)
    for entry in filter(None, os.environ.get("PEOPLE", "").split(";")):
        username, email = entry.split(":")
        User.objects.create_user(username, email=email, password="idp-password")
    print("ready", flush=True)
    run("127.0.0.1", port, get_wsgi_application(), threading=True)


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4])
