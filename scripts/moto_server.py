"""A moto server (DynamoDB and Secrets Manager API on loopback) for the tests.

Like `moto_server`, but each request is handled under one lock: real DynamoDB evaluates a
conditional write atomically, and the concurrency tests rely on that.
"""
import os
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

host, port = sys.argv[1], int(sys.argv[2])
os.environ.setdefault("MOTO_PORT", str(port))
app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()


def serialized(environ, start_response):
    with lock:
        return list(app(environ, start_response))


run_simple(host, port, serialized, threaded=True)
