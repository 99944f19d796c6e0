"""The function of the aws-python template: answers GET / through the HTTP API."""

import json
import os


def hello(event, context):
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(
            {
                "message": f"hello from {os.environ.get('SERVICE_NAME')} ({os.environ.get('STAGE')})",
                "path": (event or {}).get("rawPath", "/"),
            }
        ),
    }
