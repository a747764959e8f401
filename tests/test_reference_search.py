"""Reference server: POST /v1/vector_stores/{vector_store_id}/search (BM25 over completed files, attribute filters).

Real HTTP on 127.0.0.1; every 200 answer is checked against our contract (specs/assistants-v2.openapi.yaml).
One module server (10 ms indexing, vector store "days" of 0.3 s) holds a store of three small files.
"""

from __future__ import annotations

import time

import httpx
import pytest
from openai import OpenAI

from assistants_conformance.spec import load_contract
from reference_server import running_server

TIMEOUT = httpx.Timeout(10.0)
KEYS = ("--api-key", "key-a", "--api-key", "key-b")
SEARCH = "/vector_stores/{vector_store_id}/search"
AZURE_VERSION = "2024-08-01-preview"
DOCS = {
    "llamas.txt": (b"Llamas are camelids from the Andes. A llama hums when content and spits when annoyed. "
                   b"Llamas eat grass and hay.", {"team": "zoo", "year": 2021, "public": True}),
    "rockets.txt": (b"Rockets burn fuel to reach orbit. A rocket stage falls away once its fuel is spent.",
                    {"team": "space", "year": 2019}),
    "bread.txt": (b"Bread needs flour, water, salt and yeast. Knead the dough, let it rise, then bake the bread.",
                  {"team": "kitchen", "year": 2023, "public": False}),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("search"), "--index-delay-ms", "10",
                        "--vector-store-day-seconds", "0.3", *KEYS) as running:
        yield running


def client_for(server, key: str = "key-a") -> httpx.Client:
    return httpx.Client(base_url=server.base_url, timeout=TIMEOUT, headers={"Authorization": f"Bearer {key}"})


@pytest.fixture(scope="module")
def http(server):
    with client_for(server) as client:
        yield client


def ok(response: httpx.Response, method: str = "POST", path: str = SEARCH) -> dict:
    assert response.status_code == 200, response.text
    body = response.json()
    assert load_contract().validate((method, path), 200, body) == []
    return body


def error(response: httpx.Response, status: int, param: str | None = "?") -> dict:
    assert response.status_code == status, response.text
    found = response.json()["error"]
    if param != "?":
        assert found["param"] == param, found
    return found


def wait_completed(http, vs_id: str, bound: float = 5.0) -> dict:
    deadline = time.monotonic() + bound
    while True:
        vs = http.get(f"/vector_stores/{vs_id}").json()
        if vs["status"] != "in_progress" or time.monotonic() > deadline:
            assert vs["status"] == "completed", vs
            return vs
        time.sleep(0.02)


@pytest.fixture(scope="module")
def store(http) -> dict:
    """A store of the three DOCS, each file with its attributes; returns {"id", "files": {filename: file_id}}."""
    vs = ok(http.post("/vector_stores", json={"name": "search"}), path="/vector_stores")
    files = {}
    for name, (data, attributes) in DOCS.items():
        made = http.post("/files", files={"file": (name, data, "text/plain")}, data={"purpose": "assistants"}).json()
        files[name] = made["id"]
        attached = http.post(f"/vector_stores/{vs['id']}/files", json={"file_id": made["id"], "attributes": attributes})
        assert attached.status_code == 200, attached.text
    wait_completed(http, vs["id"])
    return {"id": vs["id"], "files": files}


def search(http, vs_id: str, **body) -> dict:
    return ok(http.post(f"/vector_stores/{vs_id}/search", json=body))


def names(page: dict, store: dict) -> list[str]:
    by_id = {file_id: name for name, file_id in store["files"].items()}
    return [by_id[item["file_id"]] for item in page["data"]]


def test_ranking_puts_the_relevant_file_first(http, store):
    page = search(http, store["id"], query="why does a llama hum")
    assert page["object"] == "vector_store.search_results.page" and page["search_query"] == "why does a llama hum"
    assert page["has_more"] is False and page["next_page"] is None
    assert names(page, store) == ["llamas.txt"]          # the others share no term with the query
    top = page["data"][0]
    assert top["filename"] == "llamas.txt" and 0 < top["score"] < 1
    assert top["attributes"] == DOCS["llamas.txt"][1]
    assert top["content"] == [{"type": "text", "text": DOCS["llamas.txt"][0].decode()}]
    assert names(search(http, store["id"], query="bake bread with yeast"), store)[0] == "bread.txt"


def test_list_query_joins_its_strings_and_is_echoed(http, store):
    page = search(http, store["id"], query=["rocket fuel", "bread"], rewrite_query=True)
    assert page["search_query"] == ["rocket fuel", "bread"]    # rewrite_query: the reference keeps the query
    assert set(names(page, store)) == {"rockets.txt", "bread.txt"}
    scores = [item["score"] for item in page["data"]]
    assert scores == sorted(scores, reverse=True)


def test_max_num_results_bounds_the_page(http, store):
    query = "llamas rockets bread fuel flour"
    assert len(search(http, store["id"], query=query)["data"]) == 3             # default 10
    assert len(search(http, store["id"], query=query, max_num_results=2)["data"]) == 2
    assert len(search(http, store["id"], query=query, max_num_results=1)["data"]) == 1
    error(http.post(f"/vector_stores/{store['id']}/search", json={"query": query, "max_num_results": 0}), 400,
          "max_num_results")
    error(http.post(f"/vector_stores/{store['id']}/search", json={"query": query, "max_num_results": 51}), 400,
          "max_num_results")


@pytest.mark.parametrize("filters, expected", [
    ({"type": "eq", "key": "team", "value": "space"}, {"rockets.txt"}),
    ({"type": "ne", "key": "team", "value": "space"}, {"llamas.txt", "bread.txt"}),
    ({"type": "gt", "key": "year", "value": 2020}, {"llamas.txt", "bread.txt"}),
    ({"type": "lte", "key": "year", "value": 2021}, {"llamas.txt", "rockets.txt"}),
    ({"type": "eq", "key": "public", "value": True}, {"llamas.txt"}),
    ({"type": "eq", "key": "public", "value": 1}, set()),                        # a boolean is not a number
    ({"type": "in", "key": "team", "value": ["zoo", "kitchen"]}, {"llamas.txt", "bread.txt"}),
    ({"type": "nin", "key": "team", "value": ["zoo", "kitchen"]}, {"rockets.txt"}),
    ({"type": "and", "filters": [{"type": "gt", "key": "year", "value": 2020},
                                 {"type": "eq", "key": "public", "value": False}]}, {"bread.txt"}),
    ({"type": "or", "filters": [{"type": "eq", "key": "team", "value": "zoo"},
                                {"type": "lt", "key": "year", "value": 2020}]}, {"llamas.txt", "rockets.txt"}),
    ({"type": "and", "filters": [{"type": "or", "filters": [{"type": "eq", "key": "team", "value": "zoo"},
                                                            {"type": "eq", "key": "team", "value": "space"}]},
                                 {"type": "gte", "key": "year", "value": 2021}]}, {"llamas.txt"}),
    ({"type": "gt", "key": "missing", "value": 0}, set()),
])
def test_filters_select_files_by_attributes(http, store, filters, expected):
    page = search(http, store["id"], query="llamas rockets bread fuel flour", filters=filters)
    assert set(names(page, store)) == expected


def test_score_threshold_drops_weak_results(http, store):
    query = "llamas hum spits grass hay rocket"
    everything = search(http, store["id"], query=query)["data"]
    assert [item["filename"] for item in everything] == ["llamas.txt", "rockets.txt"]
    cut = (everything[0]["score"] + everything[1]["score"]) / 2
    kept = search(http, store["id"], query=query, ranking_options={"ranker": "none", "score_threshold": cut})
    assert [item["filename"] for item in kept["data"]] == ["llamas.txt"]
    assert search(http, store["id"], query=query, ranking_options={"score_threshold": 1})["data"] == []


@pytest.mark.parametrize("body, param", [
    ({}, "query"),
    ({"query": 3}, "query"),
    ({"query": []}, "query"),
    ({"query": ["ok", 5]}, "query[1]"),
    ({"query": None}, "query"),
    ({"query": "x", "rewrite_query": "yes"}, "rewrite_query"),
    ({"query": "x", "max_num_results": 2.5}, "max_num_results"),
    ({"query": "x", "ranking_options": {"ranker": "bm25"}}, "ranking_options.ranker"),
    ({"query": "x", "ranking_options": {"score_threshold": 1.5}}, "ranking_options.score_threshold"),
    ({"query": "x", "ranking_options": {"extra": 1}}, "ranking_options.extra"),
    ({"query": "x", "filters": {"type": "like", "key": "a", "value": "b"}}, "filters.type"),
    ({"query": "x", "filters": {"type": "eq", "key": "a"}}, "filters.value"),
    ({"query": "x", "filters": {"type": "eq", "key": "a", "value": {"b": 1}}}, "filters.value"),
    ({"query": "x", "filters": {"type": "in", "key": "a", "value": [True]}}, "filters.value[0]"),
    ({"query": "x", "filters": {"type": "and"}}, "filters.filters"),
    ({"query": "x", "filters": {"type": "or", "filters": [{"type": "eq", "key": 1, "value": "b"}]}},
     "filters.filters[0].key"),
    ({"query": "x", "filters": {"type": "eq", "key": "a", "value": "b", "extra": 1}}, "filters.extra"),
    ({"query": "x", "top_k": 3}, "top_k"),
])
def test_bad_bodies_are_400_naming_the_field(http, store, body, param):
    found = error(http.post(f"/vector_stores/{store['id']}/search", json=body), 400, param)
    assert found["type"] == "invalid_request_error"


def test_deeply_nested_filters_are_400_not_500(http, store):
    nested: dict = {"type": "eq", "key": "a", "value": "b"}
    for _ in range(200):
        nested = {"type": "and", "filters": [nested]}
    error(http.post(f"/vector_stores/{store['id']}/search", json={"query": "x", "filters": nested}), 400)


def test_unknown_store_and_another_keys_store_are_404(server, http, store):
    error(http.post("/vector_stores/vs_nope/search", json={"query": "llama"}), 404)
    with client_for(server, "key-b") as other:
        error(other.post(f"/vector_stores/{store['id']}/search", json={"query": "llama"}), 404)


def test_only_completed_files_are_searched(http, store):
    vs = ok(http.post("/vector_stores", json={}), path="/vector_stores")
    assert search(http, vs["id"], query="llama")["data"] == []                   # empty store: empty page
    binary = http.post("/files", files={"file": ("x.bin", b"\x00\xff\x00llama", "application/octet-stream")},
                       data={"purpose": "assistants"}).json()
    http.post(f"/vector_stores/{vs['id']}/files", json={"file_id": binary["id"]})
    http.post(f"/vector_stores/{vs['id']}/files", json={"file_id": store["files"]["llamas.txt"]})
    assert wait_completed(http, vs["id"])["file_counts"]["failed"] == 1
    page = search(http, vs["id"], query="llama")
    assert [item["file_id"] for item in page["data"]] == [store["files"]["llamas.txt"]]   # the failed file is not


def test_expired_store_is_400(http, store):
    vs = ok(http.post("/vector_stores", json={"file_ids": [store["files"]["bread.txt"]],
                                              "expires_after": {"anchor": "last_active_at", "days": 1}}),
            path="/vector_stores")
    deadline = time.monotonic() + 5                                  # a "day" is 0.3 s here
    while vs["status"] != "expired" and time.monotonic() < deadline:
        time.sleep(0.05)
        vs = http.get(f"/vector_stores/{vs['id']}").json()
    assert vs["status"] == "expired"
    found = error(http.post(f"/vector_stores/{vs['id']}/search", json={"query": "bread"}), 400)
    assert found["code"] == "expired"


def test_azure_route_passes_search_through(server, store):
    with httpx.Client(base_url=server.root_url, timeout=TIMEOUT, headers={"api-key": "key-a"}) as azure:
        answer = azure.post(f"/openai/vector_stores/{store['id']}/search", params={"api-version": AZURE_VERSION},
                            json={"query": "rocket orbit"})
        assert answer.status_code == 200, answer.text
        assert answer.json()["data"][0]["filename"] == "rockets.txt"
        other = azure.post(f"/openai/vector_stores/{store['id']}/search", params={"api-version": AZURE_VERSION},
                           json={"query": "rocket"}, headers={"api-key": "key-b"})
        assert other.status_code == 404


def test_official_sdk_search_unmodified(server, store):
    with OpenAI(base_url=server.base_url, api_key="key-a", timeout=10, max_retries=0) as client:
        results = client.vector_stores.search(store["id"], query="what do llamas eat")
        hits = list(results)
        assert hits and hits[0].filename == "llamas.txt" and hits[0].content[0].type == "text"
        assert 0 < hits[0].score < 1 and hits[0].attributes == DOCS["llamas.txt"][1]
        filtered = client.vector_stores.search(store["id"], query=["fuel", "flour"], max_num_results=5,
                                               filters={"type": "eq", "key": "team", "value": "kitchen"},
                                               ranking_options={"ranker": "auto", "score_threshold": 0.0})
        assert [hit.filename for hit in filtered] == ["bread.txt"]


def test_unknown_fields_pass_when_the_fault_is_on(tmp_path):
    with running_server(tmp_path, "--fault", "unknown-fields-accepted", "--index-delay-ms", "0") as running, \
            client_for(running, "any") as http:
        vs = ok(http.post("/vector_stores", json={}), path="/vector_stores")
        body = {"query": "x", "top_k": 3, "filters": {"type": "eq", "key": "a", "value": "b", "extra": 1}}
        assert search(http, vs["id"], **body)["data"] == []
