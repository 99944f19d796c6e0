"""The function of the google-python template: Google's Python runtime calls the function the
manifest's `handler` names with the HTTP request (a Flask request); a dict it returns is
answered as JSON."""

import os


def hello(request):
    name = request.args.get("name", "world") if request is not None else "world"
    return {
        "message": f"hello, {name}",
        "service": os.environ.get("SERVICE_NAME"),
        "stage": os.environ.get("STAGE"),
    }
