"""Runs the `gcp-storage-emulator` Cloud Storage emulator (PyPI) on loopback, for the tests of
updraft's deploy lock on Google Cloud.

The emulator serves the JSON API that Google's client libraries speak, with two gaps that
updraft's lock meets, filled here as Google documents the real service before the emulator
starts; everything else is the emulator's own:

- it ignores the `ifGenerationMatch` precondition, which is what makes a lock exclusive: a
  write with `ifGenerationMatch=0` must fail with 412 when the object exists, and a delete with
  `ifGenerationMatch=N` when the object is no longer generation N;
- a media download (`alt=media`) does not carry the object's `x-goog-generation`,
  `x-goog-metageneration`, `x-goog-stored-content-length`, `x-goog-stored-content-encoding` and
  `x-goog-storage-class` headers, which Google's client libraries read.

Usage: python scripts/gcs_emulator.py PORT
"""

import sys
import time
from http import HTTPStatus

from gcp_storage_emulator.exceptions import NotFound
from gcp_storage_emulator.handlers import objects


def _current_generation(storage, bucket, name):
    try:
        return str(storage.get_file_obj(bucket, name)["generation"])
    except NotFound:
        return "0"


def _refuse(response):
    response.status = HTTPStatus.PRECONDITION_FAILED
    response.json(
        {
            "error": {
                "code": 412,
                "message": "At least one of the pre-conditions you specified did not hold.",
                "errors": [{"reason": "conditionNotMet", "domain": "global"}],
            }
        }
    )


def _object_name(request):
    """The object a write names: in the query, or in a multipart body's metadata."""
    if "name" in request.query:
        return request.query["name"][0]
    if request.params.get("object_id"):
        return request.params["object_id"]
    data = request.data
    if isinstance(data, dict):
        meta = data.get("meta") or data
        return meta.get("name")
    return None


def _guarded(handler):
    def guarded(request, response, storage, *args, **kwargs):
        wanted = request.query.get("ifGenerationMatch")
        if wanted:
            bucket = request.params["bucket_name"]
            name = _object_name(request)
            if name is not None and _current_generation(storage, bucket, name) != wanted[0]:
                return _refuse(response)
        return handler(request, response, storage, *args, **kwargs)

    return guarded


def _with_object_headers(handler):
    def download(request, response, storage, *args, **kwargs):
        try:
            obj = storage.get_file_obj(request.params["bucket_name"], request.params["object_id"])
        except NotFound:
            obj = None
        if obj is not None:
            response["x-goog-generation"] = str(obj.get("generation", ""))
            response["x-goog-metageneration"] = str(obj.get("metageneration", "1"))
            response["x-goog-stored-content-length"] = str(obj.get("size", ""))
            response["x-goog-stored-content-encoding"] = obj.get("contentEncoding") or "identity"
            response["x-goog-storage-class"] = obj.get("storageClass") or "STANDARD"
        return handler(request, response, storage, *args, **kwargs)

    return download


# Patched before the server module is imported: its routing table takes these functions.
objects.insert = _guarded(objects.insert)
objects.delete = _guarded(objects.delete)
objects.download = _with_object_headers(objects.download)

from gcp_storage_emulator.server import create_server  # noqa: E402


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 9023
    server = create_server("127.0.0.1", port, in_memory=True)
    server.start()
    print(f"gcs emulator listening on 127.0.0.1:{port}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
