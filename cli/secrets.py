"""The ``vigil`` commands for channel secrets and their encryption keys.

vigil keys generate                 print a new Fernet key (for VIGIL_ENCRYPTION_KEYS)
vigil keys rotate                   re-encrypt every stored secret under a new primary
                                    key: with the key file, a new key is made and put
                                    first; with VIGIL_ENCRYPTION_KEYS, put the new key
                                    first there yourself, then run this
vigil secret set TENANT NAME        store a secret, read from standard input (or
                                    --from-env VAR), never from the command line
vigil secret list TENANT            the names of a tenant's secrets (never the values)
vigil secret delete TENANT NAME
"""

from __future__ import annotations

import argparse
import os
import sys

from cryptography.fernet import Fernet

from alerting.audit import AuditAction
from cli.command_redis import command_client
from cli.operator import operator
from cluster.audit_store import AuditTrail, audit_key
from cluster.errors import SecretError
from cluster.keys import check_tenant_id
from cluster.secrets import (
    SecretBox,
    SecretStore,
    box_for,
    key_file,
    load_keys,
    rotate_all,
    write_key_file,
)
from cluster.settings import Settings


def _say(message: str) -> None:
    print(message, flush=True)


def run_secret_command(args: argparse.Namespace, settings: Settings) -> int:
    """Dispatch ``keys`` and ``secret``; errors are one line without any secret in it."""
    try:
        if args.command == "keys":
            return _keys(args, settings)
        return _secret(args, settings)
    except SecretError as exc:
        _say(f"vigil: {exc}")
        return 2


def _keys(args: argparse.Namespace, settings: Settings) -> int:
    if args.keys_command == "generate":
        _say(Fernet.generate_key().decode())
        return 0
    if settings.encryption_keys is not None:
        box = box_for(settings)
        _say(f"keys          {box.key_count} from VIGIL_ENCRYPTION_KEYS (the first encrypts)")
    else:
        path = key_file(settings.data_dir)
        old = load_keys(None, settings.data_dir, create=False)
        # The new key goes first and the old ones stay, written before anything is
        # re-encrypted: a crash half-way leaves every secret readable.
        write_key_file(path, [Fernet.generate_key(), *old])
        box = SecretBox(load_keys(None, settings.data_dir))
        _say(f"keys          new primary key written to {path} ({len(old)} older kept)")
    with command_client(settings) as client:
        count = rotate_all(client, box)
    _say(f"rotated       {count} secrets re-encrypted under the primary key")
    _say("              older keys can now be removed")
    return 0


def _secret(args: argparse.Namespace, settings: Settings) -> int:
    try:
        tenant = check_tenant_id(args.tenant)
    except ValueError as exc:
        _say(f"vigil: {exc}")
        return 2
    with command_client(settings) as client:
        store = SecretStore(client, tenant, box_for(settings))
        trail = AuditTrail(client, audit_key(settings))
        if args.secret_command == "list":
            for name in store.names():
                _say(name)
            return 0
        if args.secret_command == "delete":
            if not store.delete(args.name):
                _say(f"vigil: tenant {tenant!r} has no secret {args.name!r}")
                return 1
            trail.append(tenant, operator(), AuditAction.SECRET_DELETE, args.name)
            _say(f"deleted       {args.name}")
            return 0
        if args.from_env:
            value = os.environ.get(args.from_env, "")
        else:
            value = sys.stdin.readline().rstrip("\n")
        store.set(args.name, value)
        trail.append(tenant, operator(), AuditAction.SECRET_SET, args.name)  # never the value
        _say(f"stored        {args.name} for tenant {tenant} (encrypted)")
        return 0
