"""One conditional-GET rule for every image and export: strong, weak, lists and ``*``."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.api.http.etags import etag_matches
from tests.app.serving_support import create_dataset, create_model


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        (None, False),
        ('"abc"', True),
        ('W/"abc"', True),
        ('"x", W/"abc"', True),
        ('"x","y"', False),
        ("*", True),
        ('"ab"', False),
        ('"a,bc"', False),
    ],
)
def test_weak_comparison(header: str | None, matches: bool) -> None:
    assert etag_matches(header, '"abc"') is matches


def test_every_image_and_export_answers_conditionally(client: TestClient) -> None:
    dataset = create_dataset(client, n_samples=40)
    model = create_model(client, dataset_id=dataset["id"])
    urls = [
        f"/v1/datasets/{dataset['id']}/plot.png",
        f"/v1/models/{model['id']}/decision-boundary.png?resolution=20",
        f"/v1/models/{model['id']}/weights.png",
        "/v1/activations/tanh.png",
        f"/v1/models/{model['id']}/export?format=npz",
        f"/v1/models/{model['id']}/export?format=json&version=0",
        f"/v1/models/{model['id']}/parameters",
    ]
    for url in urls:
        first = client.get(url)
        assert first.status_code == 200, url
        etag, cache_control = first.headers["etag"], first.headers["cache-control"]
        assert etag.startswith('"') and cache_control, url
        for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
            again = client.get(url, headers={"if-none-match": header})
            assert again.status_code == 304 and again.content == b"", (url, header)
            assert again.headers["etag"] == etag, url
            assert again.headers["cache-control"] == cache_control, url
        assert client.get(url, headers={"if-none-match": '"other"'}).status_code == 200


def test_parameters_tags_differ_by_representation(client: TestClient) -> None:
    model = create_model(client)
    url = f"/v1/models/{model['id']}/parameters"
    json_tag = client.get(url).headers["etag"]
    npz = client.get(url, headers={"accept": "application/x-npz"})
    assert npz.headers["etag"] != json_tag and npz.headers["vary"] == "Accept"
    cached = client.get(url, headers={"accept": "application/x-npz", "if-none-match": json_tag})
    assert cached.status_code == 200
