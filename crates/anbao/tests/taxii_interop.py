#!/usr/bin/env python3
"""Interoperability of anbao's TAXII 2.1 server with the OASIS client.

Run by the anbao CLI test `taxii::the_oasis_taxii2_client_interoperates`
against a real `anbao serve`; also usable by hand:

    python3 -m venv /tmp/anbao-venv
    /tmp/anbao-venv/bin/pip install -r tests/python-requirements.txt
    /tmp/anbao-venv/bin/python crates/anbao/tests/taxii_interop.py \
        --url http://127.0.0.1:8080/taxii2/ --token anbao_... --collection <id>

With taxii2-client it reads discovery and the API root, lists collections,
adds objects and polls their status, adds 10,000 objects in envelopes of
1,000, pages through all of them (objects and manifest) checking the count
and that no id repeats, and reads single objects, versions and the
manifest. Exits 0 when everything holds; otherwise prints what did not.
"""

import argparse
import sys
import time
import uuid

import requests
from taxii2client.exceptions import AccessError
from taxii2client.v21 import ApiRoot, Server, as_pages

TAXII = "application/taxii+json;version=2.1"
TOTAL = 10_000
PER_ENVELOPE = 1_000


class Failed(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failed(message)


def indicator(i, run):
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--" + str(uuid.uuid5(run, str(i))),
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": "bulk indicator %d" % i,
        "pattern": "[domain-name:value = 'c2-%d.example.net']" % i,
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
    }


MALWARE_ID = "malware--" + str(uuid.uuid4())
PATTERN_ID = "attack-pattern--" + str(uuid.uuid4())


def malware(modified):
    return {
        "type": "malware",
        "spec_version": "2.1",
        "id": MALWARE_ID,
        "created": "2025-06-01T00:00:00.000Z",
        "modified": modified,
        "name": "Mirai",
        "is_family": True,
    }


def wait_complete(api_root, status_id, timeout=60):
    deadline = time.time() + timeout
    status = api_root.get_status(status_id)
    while status.status != "complete":
        check(time.time() < deadline, "status %s still %s after %ss" % (status_id, status.status, timeout))
        time.sleep(0.5)
        status.refresh()
    return status


def page_ids(pages):
    ids, count = [], 0
    for envelope in pages:
        count += 1
        ids.extend(o["id"] for o in envelope.get("objects", []))
    return ids, count


def run(url, token, collection_id):
    server = Server(url, user="taxii-interop", password=token)
    check(server.title, "discovery has no title")
    check(len(server.api_roots) == 1, "one API root expected, got %r" % server.api_roots)
    api_root = server.default or server.api_roots[0]
    check(isinstance(api_root, ApiRoot), "no default API root")
    check(TAXII in api_root.versions, "API root versions %r lack %s" % (api_root.versions, TAXII))
    check(api_root.max_content_length > 0, "no max_content_length")
    print("discovery: %r, API root %s (max_content_length %d)" % (server.title, api_root.url, api_root.max_content_length))

    collections = {c.id: c for c in api_root.collections}
    check(collection_id in collections, "collection %s not listed: %r" % (collection_id, list(collections)))
    collection = collections[collection_id]
    check(collection.can_read and collection.can_write, "the token should read and write %s" % collection_id)
    check("application/stix+json;version=2.1" in collection.media_types, "media_types %r" % collection.media_types)

    # A small envelope: two versions of one object and another object; the
    # status is polled until complete.
    first = {"objects": [malware("2026-01-01T00:00:00.000Z"), malware("2026-02-01T00:00:00.000Z"),
                         {"type": "attack-pattern", "spec_version": "2.1", "id": PATTERN_ID,
                          "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
                          "name": "Spearphishing Link"}]}
    status = collection.add_objects(first, wait_for_completion=False)
    status = wait_complete(api_root, status.id)
    check((status.total_count, status.success_count, status.failure_count) == (3, 3, 0),
          "small envelope status: %r" % status._raw)
    # A STIX 2.0 object fails alone, in the status, not the request.
    mixed = {"objects": [{"type": "indicator", "id": "indicator--" + str(uuid.uuid4()), "spec_version": "2.0"}]}
    status = collection.add_objects(mixed, wait_for_completion=True, poll_interval=0.2, timeout=30)
    check((status.success_count, status.failure_count) == (0, 1), "2.0 object status: %r" % status._raw)

    run_id = uuid.uuid4()
    started = time.time()
    for start in range(0, TOTAL, PER_ENVELOPE):
        envelope = {"objects": [indicator(i, run_id) for i in range(start, start + PER_ENVELOPE)]}
        status = collection.add_objects(envelope, wait_for_completion=True, poll_interval=0.2, timeout=60)
        check(status.status == "complete" and status.success_count == PER_ENVELOPE and status.failure_count == 0,
              "envelope at %d: %r" % (start, {k: v for k, v in status._raw.items() if k.endswith("count")}))
        check(len(status.successes) == PER_ENVELOPE, "successes listed: %d" % len(status.successes))
    print("added %d objects in envelopes of %d in %.1fs" % (TOTAL, PER_ENVELOPE, time.time() - started))

    expected = {indicator(i, run_id)["id"] for i in range(TOTAL)}
    for per_request in (1000, 700):
        started = time.time()
        ids, pages = page_ids(as_pages(collection.get_objects, per_request=per_request, type="indicator"))
        check(len(ids) == TOTAL, "paged %d objects, expected %d (per_request %d)" % (len(ids), TOTAL, per_request))
        check(len(set(ids)) == TOTAL, "%d ids repeat (per_request %d)" % (TOTAL - len(set(ids)), per_request))
        check(set(ids) == expected, "paged ids differ from the ones added")
        want_pages = -(-TOTAL // per_request)
        check(pages == want_pages, "%d pages at %d per request, expected %d" % (pages, per_request, want_pages))
        print("paged %d objects in %d pages of %d in %.1fs" % (len(ids), pages, per_request, time.time() - started))

    ids, pages = page_ids(as_pages(collection.get_manifest, per_request=1000, type="indicator"))
    check(len(ids) == TOTAL and len(set(ids)) == TOTAL, "manifest paging gave %d ids (%d distinct)" % (len(ids), len(set(ids))))

    # Single objects, versions, the manifest of one object.
    one = collection.get_object(MALWARE_ID)
    check([o["modified"] for o in one["objects"]] == ["2026-02-01T00:00:00.000Z"], "get_object: %r" % one)
    every = collection.get_object(MALWARE_ID, version="all")
    check(len(every["objects"]) == 2, "get_object version=all: %r" % every)
    first_version = collection.get_object(MALWARE_ID, version="first")
    check(first_version["objects"][0]["modified"] == "2026-01-01T00:00:00.000Z", "version=first: %r" % first_version)
    versions = collection.object_versions(MALWARE_ID)
    check(sorted(versions["versions"]) == ["2026-01-01T00:00:00.000Z", "2026-02-01T00:00:00.000Z"],
          "object_versions: %r" % versions)
    manifest = collection.get_manifest(id=MALWARE_ID)
    records = manifest["objects"]
    check(len(records) == 1 and records[0]["version"] == "2026-02-01T00:00:00.000Z"
          and records[0]["media_type"] == "application/stix+json;version=2.1" and records[0]["date_added"],
          "get_manifest: %r" % manifest)

    # The date-added headers, read with plain requests.
    raw = requests.get(collection.objects_url, params={"limit": 5}, auth=("x", token), headers={"Accept": TAXII})
    check(raw.status_code == 200, "raw GET: %d" % raw.status_code)
    check(raw.headers.get("Content-Type") == TAXII, "Content-Type %r" % raw.headers.get("Content-Type"))
    check(raw.headers.get("X-TAXII-Date-Added-First") and raw.headers.get("X-TAXII-Date-Added-Last"),
          "no X-TAXII-Date-Added headers: %r" % dict(raw.headers))
    anonymous = requests.get(collection.url, headers={"Accept": TAXII})
    check(anonymous.status_code == 401 and "Basic" in anonymous.headers.get("WWW-Authenticate", ""),
          "anonymous: %d %r" % (anonymous.status_code, dict(anonymous.headers)))
    refused = requests.get(collection.url, auth=("x", token), headers={"Accept": "application/json"})
    check(refused.status_code == 406, "Accept application/json: %d" % refused.status_code)

    collection.delete_object(PATTERN_ID)
    try:
        collection.get_object(PATTERN_ID)
        raise Failed("deleted object still served")
    except requests.exceptions.HTTPError as e:
        check(e.response.status_code == 404, "after delete: %d" % e.response.status_code)
    print("get_object, object_versions, get_manifest, delete_object: ok")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="the discovery URL, e.g. http://127.0.0.1:8080/taxii2/")
    parser.add_argument("--token", required=True, help="an anbao API token that may read and write the collection")
    parser.add_argument("--collection", required=True, help="the id of the collection to use")
    args = parser.parse_args()
    try:
        run(args.url, args.token, args.collection)
    except (Failed, AccessError) as e:
        print("FAILED: %s" % e, file=sys.stderr)
        return 1
    print("taxii2-client interoperates")
    return 0


if __name__ == "__main__":
    sys.exit(main())
