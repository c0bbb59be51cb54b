"""The benchmark's WSGI entry point, the same for every Python server.

/hello goes straight to the plain WSGI callable; /flask/... to the Flask app and
/django/... to the Django project. The dispatch is one comparison per request.
"""
import django_app
import flask_app
import hello

_hello = hello.application
_flask = flask_app.app.wsgi_app
_django = django_app.application


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path == "/hello":
        return _hello(environ, start_response)
    if path.startswith("/flask/"):
        return _flask(environ, start_response)
    if path.startswith("/django/"):
        return _django(environ, start_response)
    start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", "9")])
    return [b"Not Found"]
