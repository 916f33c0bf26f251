"""Run by up.sh with the NetBox venv's python: migrate, optionally dump, then users and API tokens.

usage: bootstrap.py STATE_DIR [DUMP_CMD...]
  NETBOX_ROOT must point at STATE_DIR (conf/configuration.py lives there).
  If DUMP_CMD is given it is run right after `migrate`, before any user exists (the cached schema dump).
Writes STATE_DIR/token-v2 (nbt_<key>.<secret>) and STATE_DIR/token-v1 (40 hex) of the superuser hnp-sidecar, and
STATE_DIR/token-restricted (v2) of the non-superuser hnp-sidecar-restricted, unless they still work.
"""
import os
import secrets
import subprocess
import sys
import time

import django

os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'netbox.settings')
django.setup()

from django.apps import apps  # noqa: E402
from django.contrib.contenttypes.models import ContentType  # noqa: E402
from django.core.management import call_command  # noqa: E402

from users.constants import TOKEN_PREFIX  # noqa: E402
from users.models import ObjectPermission, Token, User  # noqa: E402

state, dump_cmd = sys.argv[1], sys.argv[2:]

t = time.monotonic()
call_command('migrate', interactive=False, verbosity=1)
print(f'bootstrap: migrate took {time.monotonic() - t:.1f}s', flush=True)
if dump_cmd:
    subprocess.run(dump_cmd, check=True)


def read(name):
    try:
        with open(os.path.join(state, name)) as f:
            return f.read().strip()
    except FileNotFoundError:
        return ''


def write(name, value):
    path = os.path.join(state, name)
    with open(path, 'w') as f:
        f.write(value + '\n')
    os.chmod(path, 0o600)


def ensure_superuser(username, password):
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User.objects.create_superuser(username=username, email='', password=password)
        print(f'bootstrap: created superuser {username}')
    return user


ensure_superuser('admin', read('admin-password'))
# The sidecar's service user: a superuser with its own password nobody needs.
sidecar = ensure_superuser('hnp-sidecar', secrets.token_urlsafe(24))


# A sidecar user that is NOT a superuser: NetBox object permissions on every plugin model and on journal entries.
# The real plugin shows a non-superuser only the Git repositories it created (git-repos-api/ answers 404 for others).
RESTRICTED = 'hnp-sidecar-restricted'
restricted = User.objects.filter(username=RESTRICTED).first()
if restricted is None:
    restricted = User.objects.create_user(username=RESTRICTED, email='', password=secrets.token_urlsafe(24))
    print(f'bootstrap: created user {RESTRICTED} (not a superuser)')


def grant(name, models, actions):
    perm, _ = ObjectPermission.objects.get_or_create(name=name, defaults={'actions': list(actions)})
    perm.actions, perm.enabled, perm.constraints = list(actions), True, None
    perm.save()
    perm.object_types.set([ContentType.objects.get_for_model(m) for m in models])
    perm.users.add(restricted)


grant(f'{RESTRICTED}: netbox_hedgehog', apps.get_app_config('netbox_hedgehog').get_models(),
      ('view', 'add', 'change', 'delete'))
grant(f'{RESTRICTED}: journal entries', (apps.get_model('extras', 'JournalEntry'),), ('view', 'add'))


def token_ok(value, version, user):
    if version == 2 and value.startswith(TOKEN_PREFIX) and '.' in value:
        key, plaintext = value.removeprefix(TOKEN_PREFIX).split('.', 1)
        tok = Token.objects.filter(version=2, key=key, user=user).first()
        return tok is not None and tok.validate(plaintext)
    if version == 1:
        return Token.objects.filter(version=1, plaintext=value, user=user).exists() if value else False
    return False


# v2: NetBox generates the 12-char key and 40-char secret; the client sends "nbt_<key>.<secret>".
for user, name in ((sidecar, 'token-v2'), (restricted, 'token-restricted')):
    if not token_ok(read(name), 2, user):
        tok = Token(version=2, user=user, description=f'{user.username} tests (v2)')
        tok.save()
        write(name, f'{TOKEN_PREFIX}{tok.key}.{tok.token}')
        print(f'bootstrap: created v2 token for {user.username}')

# v1 (legacy, still accepted by 4.7): the plaintext itself, 40 hex characters.
if not token_ok(read('token-v1'), 1, sidecar):
    value = secrets.token_hex(20)
    Token(version=1, user=sidecar, token=value, description='hnp-sidecar tests (v1)').save()
    write('token-v1', value)
    print('bootstrap: created v1 token')
