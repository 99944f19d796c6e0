"""The function of the azure-python template, in the Azure Functions Python model that reads
function.json: it takes the HTTP request and returns the response."""

import json
import os

import azure.functions as func


def hello(req: func.HttpRequest) -> func.HttpResponse:
    name = req.params.get("name", "world")
    body = {"message": f"hello, {name}", "service": os.environ.get("SERVICE_NAME"), "stage": os.environ.get("STAGE")}
    return func.HttpResponse(json.dumps(body), mimetype="application/json")
