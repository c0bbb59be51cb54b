"""The plain WSGI hello: no framework, the server's own cost is what shows."""

BODY = b"Hello World"
HEADERS = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(BODY)))]


def application(environ, start_response):
    start_response("200 OK", HEADERS)
    return [BODY]
