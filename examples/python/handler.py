"""Python handler of the example service (serverless.example.yml).

`report` runs on a schedule (EventBridge passes the `input` from the manifest) and on
GET /report through the HTTP API, which gets an API Gateway style response.
"""

import json
import os
import platform
import time


def report(event, context):
    """Summarises what this function knows about its service and the request."""
    event = event or {}
    source = event.get("source") or event.get("requestContext", {}).get("http", {}).get("method")
    summary = {
        "title": os.environ.get("REPORT_TITLE", "report"),
        "service": os.environ.get("SERVICE_NAME"),
        "stage": os.environ.get("STAGE"),
        "trigger": source or "direct",
        "python": platform.python_version(),
        "remainingMs": context.get_remaining_time_in_millis() if context else None,
        "generatedAt": int(time.time()),
    }
    print(json.dumps({"level": "info", "message": "report", **summary}))
    if "requestContext" in event:
        return {
            "statusCode": 200,
            "headers": {"content-type": "application/json"},
            "body": json.dumps(summary),
        }
    return summary
