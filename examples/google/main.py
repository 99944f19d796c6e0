"""Python function of the Google example service (serverless.yml beside this file).

Google's Python runtime imports this file and calls the function the manifest's `handler`
names with the HTTP request (Cloud Scheduler calls its URL with an OIDC token).
"""

import json
import os
import platform
import time


def report(request):
    """Summarises what this function knows about its service."""
    return json.dumps(
        {
            "service": os.environ.get("SERVICE_NAME"),
            "stage": os.environ.get("STAGE"),
            "python": platform.python_version(),
            "time": int(time.time()),
        }
    )
