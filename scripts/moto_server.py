"""A moto server (DynamoDB and Secrets Manager API on loopback) for the tests.

Like `moto_server`, but each request is handled under one lock: real DynamoDB evaluates a
conditional write atomically, and the concurrency tests rely on that.

One change to moto's cost, not its behaviour: moto makes `TransactWriteItems` undoable by copying
every table it names whole (`copy.deepcopy`), which makes a transaction slower the fuller the table
(quadratic over the 10,000 webhooks of `make bench`; DynamoDB's cost does not grow so). Here the
items a transaction names are kept instead, and put back when moto cancels it: the same outcome.
"""
import os
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

import copy

import moto.dynamodb.models as ddb_models
from moto.dynamodb.models.dynamo_type import DynamoType


class _TablesNotCopied:
    """Stands in for `copy` inside moto's DynamoDB backend: tables are not copied (their touched
    items are kept by `_transact_write_items`); anything else is copied as before."""

    @staticmethod
    def deepcopy(value, memo=None):
        if isinstance(value, ddb_models.Table):
            return value
        return copy.deepcopy(value, memo)


ddb_models.copy = _TablesNotCopied
_original_transact = ddb_models.DynamoDBBackend.transact_write_items


def _slot(table, key):
    hash_value = DynamoType(key[table.hash_key_attr])
    range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
    return hash_value, range_value


def _transact_write_items(self, transact_items):
    kept = []
    for entry in transact_items:
        _, op = next(iter(entry.items()))
        table = self.tables.get(op.get("TableName"))
        key = op.get("Key") or op.get("Item")
        if table is None or not key or table.hash_key_attr not in key:
            continue
        hash_value, range_value = _slot(table, key)
        kept.append((table, hash_value, range_value, copy.deepcopy(table.get_item(hash_value, range_value))))
    try:
        return _original_transact(self, transact_items)
    except Exception:
        for table, hash_value, range_value, item in reversed(kept):
            if range_value is None:
                if item is None:
                    table.items.pop(hash_value, None)
                else:
                    table.items[hash_value] = item
            elif item is None:
                table.items.get(hash_value, {}).pop(range_value, None)
            else:
                table.items[hash_value][range_value] = item
        raise


ddb_models.DynamoDBBackend.transact_write_items = _transact_write_items

host, port = sys.argv[1], int(sys.argv[2])
os.environ.setdefault("MOTO_PORT", str(port))
app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()


def serialized(environ, start_response):
    with lock:
        return list(app(environ, start_response))


run_simple(host, port, serialized, threaded=True)
