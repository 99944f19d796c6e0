"""The functions of the aws-http-api-dynamodb template: create, list, get and delete items in
the table named by TABLE_NAME (boto3 is part of Lambda's Python runtime; locally it comes from
the Python updraft runs, and AWS_ENDPOINT_URL points it at an emulator)."""

import json
import os
import uuid

import boto3

table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


def answer(status, body=None):
    response = {"statusCode": status, "headers": {"content-type": "application/json"}}
    if body is not None:
        response["body"] = json.dumps(body)
    return response


def create(event, context):
    try:
        item = json.loads(event.get("body") or "{}")
    except json.JSONDecodeError:
        return answer(400, {"message": "the body is not JSON"})
    if not isinstance(item, dict):
        return answer(400, {"message": "send a JSON object"})
    item = {key: value for key, value in item.items() if isinstance(value, (str, bool))}
    item.setdefault("id", str(uuid.uuid4()))
    table.put_item(Item=item)
    return answer(201, item)


def list_items(event, context):
    return answer(200, {"items": table.scan().get("Items", [])})


def get(event, context):
    found = table.get_item(Key={"id": event["pathParameters"]["id"]}).get("Item")
    return answer(200, found) if found else answer(404, {"message": "no such item"})


def delete(event, context):
    table.delete_item(Key={"id": event["pathParameters"]["id"]})
    return answer(204)
