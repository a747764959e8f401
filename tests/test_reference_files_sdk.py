"""The official openai SDK's Files and vector store flows, unmodified, against the reference server.

(openai 3.52 has no `vector_stores.create_and_poll`; its documented equivalent is create + a polling helper:
`file_batches.create_and_poll` / `upload_and_poll`, `files.create_and_poll` / `files.poll`.)
"""

from __future__ import annotations

import io

import pytest
from openai import NotFoundError, OpenAI, BadRequestError

from assistants_conformance.spec import load_contract
from reference_server import running_server

DOC = b"The reference server keeps file bytes in SQLite. Llamas hum when they are content.\n"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("sdk-files"), "--index-delay-ms", "40", "--max-file-bytes", "100000",
                        "--api-key", "sk-test") as server:
        with OpenAI(base_url=server.base_url, api_key="sk-test", timeout=10, max_retries=0) as sdk:
            yield sdk


def valid(method: str, path: str, model) -> None:
    assert load_contract().validate((method, path), 200, model.model_dump(mode="json", exclude_unset=True)) == []


def test_files_create_retrieve_content_delete(client):
    made = client.files.create(file=("notes.txt", io.BytesIO(DOC)), purpose="assistants")
    valid("POST", "/files", made)
    assert made.bytes == len(DOC) and made.filename == "notes.txt" and made.purpose == "assistants"
    assert client.files.retrieve(made.id) == made
    assert client.files.content(made.id).read() == DOC
    assert made.id in [f.id for f in client.files.list(purpose="assistants")]
    deleted = client.files.delete(made.id)
    assert deleted.deleted is True and deleted.id == made.id
    with pytest.raises(NotFoundError):
        client.files.retrieve(made.id)


def test_upload_past_the_limit_is_a_bad_request(client):
    with pytest.raises(BadRequestError) as caught:
        client.files.create(file=("big.txt", io.BytesIO(b"x" * 100_001)), purpose="assistants")
    assert caught.value.body["param"] == "file"


def test_file_batches_upload_and_poll(client):
    store = client.vector_stores.create(name="docs", expires_after={"anchor": "last_active_at", "days": 7})
    valid("POST", "/vector_stores", store)
    files = [(f"doc{i}.txt", io.BytesIO(DOC + bytes(str(i), "ascii"))) for i in range(3)]
    batch = client.vector_stores.file_batches.upload_and_poll(store.id, files=files, poll_interval_ms=20)
    valid("GET", "/vector_stores/{vector_store_id}/file_batches/{batch_id}", batch)
    assert batch.status == "completed" and batch.file_counts.completed == 3 and batch.file_counts.in_progress == 0
    listed = client.vector_stores.files.list(store.id)
    assert len(listed.data) == 3 and all(f.status == "completed" for f in listed.data)
    in_batch = client.vector_stores.file_batches.list_files(batch.id, vector_store_id=store.id)
    assert {f.id for f in in_batch} == {f.id for f in listed}
    after = client.vector_stores.retrieve(store.id)
    assert after.status == "completed" and after.file_counts.completed == 3 and after.usage_bytes > 0
    assert after.expires_after.days == 7 and after.expires_at is not None


def test_create_store_then_poll_its_files(client):
    ids = [client.files.create(file=(f"f{i}.md", io.BytesIO(DOC)), purpose="assistants").id for i in range(2)]
    store = client.vector_stores.create(name="with files", file_ids=ids,
                                        chunking_strategy={"type": "static", "static": {
                                            "max_chunk_size_tokens": 100, "chunk_overlap_tokens": 50}})
    assert store.status == "in_progress" and store.file_counts.in_progress == 2
    done = [client.vector_stores.files.poll(file_id, vector_store_id=store.id, poll_interval_ms=20) for file_id in ids]
    assert [f.status for f in done] == ["completed", "completed"]
    assert done[0].chunking_strategy.static.max_chunk_size_tokens == 100
    assert client.vector_stores.retrieve(store.id).status == "completed"
    content = client.vector_stores.files.content(ids[0], vector_store_id=store.id)
    assert "".join(part.text for part in content) == DOC.decode().strip()


def test_files_upload_and_poll_and_delete_from_store(client):
    store = client.vector_stores.create(name="single")
    vsf = client.vector_stores.files.upload_and_poll(vector_store_id=store.id, file=("one.txt", io.BytesIO(DOC)),
                                                     poll_interval_ms=20)
    assert vsf.status == "completed" and vsf.usage_bytes == len(DOC)
    updated = client.vector_stores.files.update(vsf.id, vector_store_id=store.id, attributes={"lang": "en", "n": 1})
    assert updated.attributes == {"lang": "en", "n": 1}
    client.files.delete(vsf.id)
    assert list(client.vector_stores.files.list(store.id)) == []
    assert client.vector_stores.retrieve(store.id).file_counts.total == 0
    assert client.vector_stores.delete(store.id).deleted is True
