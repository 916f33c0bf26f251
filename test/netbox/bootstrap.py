"""Run by up.sh with the NetBox venv's python: migrate, optionally dump, then users and API tokens.

usage: bootstrap.py STATE_DIR [DUMP_CMD...]
  NETBOX_ROOT must point at STATE_DIR (conf/configuration.py lives there).
  If DUMP_CMD is given it is run right after `migrate`, before any user exists (the cached schema dump).
Writes STATE_DIR/token-v2 (nbt_<key>.<secret>) and STATE_DIR/token-v1 (40 hex) unless they still work.
"""
import os
import secrets
import subprocess
import sys
import time

import django

os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'netbox.settings')
django.setup()

from django.core.management import call_command  # noqa: E402

from users.constants import TOKEN_PREFIX  # noqa: E402
from users.models import Token, User  # noqa: E402

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


def token_ok(value, version):
    if version == 2 and value.startswith(TOKEN_PREFIX) and '.' in value:
        key, plaintext = value.removeprefix(TOKEN_PREFIX).split('.', 1)
        tok = Token.objects.filter(version=2, key=key, user=sidecar).first()
        return tok is not None and tok.validate(plaintext)
    if version == 1:
        return Token.objects.filter(version=1, plaintext=value, user=sidecar).exists() if value else False
    return False


# v2: NetBox generates the 12-char key and 40-char secret; the client sends "nbt_<key>.<secret>".
if not token_ok(read('token-v2'), 2):
    tok = Token(version=2, user=sidecar, description='hnp-sidecar tests (v2)')
    tok.save()
    write('token-v2', f'{TOKEN_PREFIX}{tok.key}.{tok.token}')
    print('bootstrap: created v2 token')

# v1 (legacy, still accepted by 4.7): the plaintext itself, 40 hex characters.
if not token_ok(read('token-v1'), 1):
    value = secrets.token_hex(20)
    Token(version=1, user=sidecar, token=value, description='hnp-sidecar tests (v1)').save()
    write('token-v1', value)
    print('bootstrap: created v1 token')
