"""``POST /v1/models/{id}/predict``, the hot path.

It reads the raw body, parses it with ``orjson``, takes the network from the in-memory cache (no
database read while the model's directory is unchanged), predicts a few rows of a small network
in plain Python and anything else with numpy (:mod:`app.services.predictions`), and writes the
JSON with ``orjson``. Only big batches leave the event loop for the thread pool. A table model
(one with a preprocessing stage) branches off after the model is loaded: its rows may be
``records``, mixed ``inputs`` or CSV matched by header (:mod:`app.services.table_predictions`).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np
import orjson
from fastapi import FastAPI, Request, Response
from numpy.typing import NDArray
from starlette.concurrency import run_in_threadpool
from starlette.types import Scope

from app.api.deps import (
    app_api_keys,
    app_auth_throttle,
    app_heavy_requests,
    app_metrics,
    app_model_cache,
    app_settings,
)
from app.api.http.auth import check_api_key
from app.api.http.direct_route import DirectRoute
from app.api.http.negotiation import choose
from app.api.http.openapi import BEARER
from app.api.http.parameters import MAX_VERSION, PROBLEMS
from app.api.schemas.common import Problem
from app.api.schemas.predict import PredictRequest, PredictResponse
from app.errors import FieldError, InvalidInput, ServiceError, UnsupportedMediaType
from app.services.loaded_model import LoadedModel
from app.services.predictions import (
    PlainPrediction,
    Prediction,
    csv_table,
    rows_from_csv,
)
from app.services.predictions import (
    predict_rows as serve_rows,
)
from app.services.table_predictions import CsvBody, Records, predict_table

CSV = "text/csv"
JSON = "application/json"
_MEDIA = (JSON, CSV)
_JSON_ACCEPTS = frozenset({b"", b"*/*", b"application/json"})
BIG_BODY_BYTES = 256 * 1024


class MalformedBody(ServiceError):  # noqa: N818 (HTTP-style names)
    """The body could not be parsed at all."""

    code = "malformed_json"
    title = "Bad request"


def _content_headers(scope: Scope) -> tuple[str, bytes | None]:
    """The request's media type (lowercase, no parameters) and its raw ``Accept`` value.

    One pass over the raw headers (lowercase names, as ASGI servers give them), taking the
    first of repeated headers as Starlette's ``Headers.get`` does.
    """
    content_type: bytes | None = None
    accept: bytes | None = None
    for key, value in scope["headers"]:
        if key == b"content-type":
            if content_type is None:
                content_type = value
        elif key == b"accept" and accept is None:
            accept = value
    if content_type == b"application/json":
        return "application/json", accept
    text = content_type.decode("latin-1") if content_type is not None else ""
    return text.split(";", 1)[0].strip().lower(), accept


def _answer_media(accept: bytes) -> str:
    # The plain JSON accepts are answered before this is called.
    return choose(accept.decode("latin-1"), _MEDIA)


def _int_or_float(digits: str) -> int | float:
    # Integers beyond int64 become floats (huge ones infinite), so they get the precise 422 of
    # the finite-number checks instead of overflowing later or tripping the digit limit.
    return int(digits) if len(digits) <= 18 else float(digits)


def _loads_leniently(body: bytes) -> Any:
    # Python's parser also takes NaN and Infinity tokens (and huge integers), so such rows get
    # a precise 422 from the row checks instead of a generic parse error.
    try:
        return json.loads(body, parse_int=_int_or_float)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise MalformedBody("the request body is not valid JSON") from error
    except RecursionError as error:
        raise MalformedBody(
            "the request body is nested too deeply", code="nesting_too_deep"
        ) from error


def _parse_json(body: bytes) -> tuple[object, int | None]:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        document = _loads_leniently(body)
    if type(document) is dict and len(document) == 1 and "inputs" in document:
        return document["inputs"], None  # the common request, checked in one go
    if not isinstance(document, dict) or ("inputs" in document) == ("records" in document):
        raise InvalidInput(
            'send {"inputs": [[...], ...]} or, for a table model, {"records": [{...}, ...]}',
            code="invalid_inputs",
        )
    unknown = sorted(set(document) - {"inputs", "records", "version"})
    if unknown:
        raise InvalidInput(f"unknown field(s): {', '.join(unknown)}", code="unknown_field")
    version = document.get("version")
    if version is not None and (
        isinstance(version, bool) or not isinstance(version, int) or not 0 <= version <= MAX_VERSION
    ):
        raise InvalidInput("version must be a non-negative integer", code="invalid_version")
    if "records" in document:
        return Records(document["records"]), version
    return document["inputs"], version


def _float64(values: NDArray[np.floating[Any]]) -> NDArray[np.float64]:
    # float32 values are written as the float64 numbers they are, like the rest of the API.
    return np.ascontiguousarray(values, dtype=np.float64)


def _prediction_body(
    prediction: Prediction | PlainPrediction, warnings: list[str] | None = None
) -> bytes:
    model, version, outputs, probabilities, labels = (
        prediction.model,
        prediction.version,
        prediction.outputs,
        prediction.probabilities,
        prediction.labels,
    )
    body: dict[str, Any] = {"model_id": model.id, "model_version": version, "trained": version > 0}
    if probabilities is not None:
        body["predictions"] = labels
        body["probabilities"] = (
            probabilities if isinstance(probabilities, list) else _float64(probabilities)
        )
        body["classes"] = model.classes or ()
    elif isinstance(outputs, list):
        body["predictions"] = [A[0] for A in outputs] if len(outputs[0]) == 1 else outputs
    else:
        body["predictions"] = _float64(outputs[:, 0] if outputs.shape[1] == 1 else outputs)
    if warnings is not None:
        body["warnings"] = warnings
    # Lists of Python floats and float64 arrays are written with the same shortest digits.
    return orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY)


_PREDICT_DOCS = {
    # The endpoint checks the key itself (it takes no dependencies), so the scheme is named here.
    "security": [{BEARER: []}],
    "parameters": [
        {"name": "model_id", "in": "path", "required": True, "schema": {"type": "string"}},
        {
            "name": "version",
            "in": "query",
            "required": False,
            "description": "Parameter version (default: current).",
            "schema": {"type": "integer", "minimum": 0},
        },
    ],
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": PredictRequest.model_json_schema()},
            CSV: {"schema": {"type": "string"}, "example": "x1,x2\n0.5,-1.0\n1.2,0.3\n"},
        },
    },
}


def _query_version(request: Request) -> int | None:
    raw = request.query_params.get("version")
    if raw is None:
        return None
    if not raw.isdigit() or len(raw) > len(str(MAX_VERSION)) or int(raw) > MAX_VERSION:
        raise InvalidInput(
            "version must be a non-negative integer",
            code="validation_error",
            errors=[FieldError(field="query.version", message="not a version", code="int_parsing")],
        )
    return int(raw)


def predict_endpoint(app: FastAPI) -> Callable[[Request], Awaitable[Response]]:
    """The predict endpoint bound to ``app``'s cache, settings and API keys.

    Bound once, so a request reads nothing from the app's state: on a one-row request that
    work would show. The hot path takes no FastAPI parameters or dependencies either (resolving
    them would cost more than the prediction) and reads path, query and headers itself. Keys
    are still checked by the same rule as on every /v1 route.
    """
    cache = app_model_cache(app)
    settings = app_settings(app)
    max_rows, inline_rows = settings.max_predict_rows, settings.predict_inline_rows
    api_keys = app_api_keys(app)
    throttle = app_auth_throttle(app)
    metrics = app_metrics(app)
    heavy, heavy_rows = app_heavy_requests(app), settings.heavy_predict_rows

    async def predict_rows(request: Request) -> Response:
        """Predict rows sent as JSON ``{"inputs": [[...], ...]}`` or as a CSV table.

        Classifiers answer class labels and per-class probabilities, regressors values.
        ``version`` (query or body) pins a parameter version; version 0 answers with
        ``trained: false``. Send ``Accept: text/csv`` for a CSV answer.
        """
        if api_keys:
            check_api_key(request, api_keys, throttle)
        scope = request.scope
        model_id: str = scope["path_params"]["model_id"]
        version = _query_version(request) if scope["query_string"] else None
        kind, accept = _content_headers(scope)
        media = JSON if accept is None or accept in _JSON_ACCEPTS else _answer_media(accept)
        body = await request.body()
        if kind == CSV:
            rows: object = CsvBody(body)  # parsed once the model says how
            body_version = None
        elif kind == JSON or kind.endswith("+json"):
            if len(body) > BIG_BODY_BYTES:
                rows, body_version = await run_in_threadpool(_parse_json, body)
            else:
                rows, body_version = _parse_json(body)
        else:
            raise UnsupportedMediaType("send the rows as application/json or text/csv")
        if version is not None and body_version is not None and version != body_version:
            raise InvalidInput("version differs between query and body", code="version_conflict")
        number = body_version if version is None else version
        if _row_count(rows) > heavy_rows:
            with heavy.place():
                return await _answer(model_id, number, rows, media)
        return await _answer(model_id, number, rows, media)

    async def _answer(model_id: str, number: int | None, rows: object, media: str) -> Response:
        loaded = cache.peek(model_id, number)
        if loaded is None:
            loaded = await run_in_threadpool(cache.get, model_id, number)
        if loaded.inference.preprocessor is not None:
            result = await run_in_threadpool(_predict_table, loaded, rows, max_rows, media)
            return Response(result, media_type=media)
        if isinstance(rows, CsvBody):
            rows = await run_in_threadpool(rows_from_csv, rows.data, max_rows)
        elif isinstance(rows, Records):
            raise InvalidInput(
                "records need a table model; this model takes inputs as rows of numbers",
                code="invalid_inputs",
            )
        if isinstance(rows, list) and len(rows) > inline_rows:
            # Big batches leave the event loop: other requests go on meanwhile.
            result = await run_in_threadpool(_predict_big, loaded, rows, max_rows, media)
            metrics.predicted(model_id, "v1", len(rows))
            return Response(result, media_type=media)
        prediction = serve_rows(loaded, rows, max_rows)
        metrics.predicted(model_id, "v1", len(prediction.outputs))
        if media == CSV:
            return Response(csv_table(prediction), media_type=CSV)
        return Response(_prediction_body(prediction), media_type=JSON)

    return predict_rows


def _row_count(rows: object) -> int:
    """The rows a predict body holds, counted before any is parsed as numbers."""
    if isinstance(rows, CsvBody):
        return rows.data.count(b"\n")
    if isinstance(rows, Records):
        rows = rows.records
    return len(rows) if isinstance(rows, list) else 0


def install_predict_route(app: FastAPI) -> None:
    """Mount ``POST /v1/models/{model_id}/predict`` as the app's first route.

    FastAPI tries routes in order, and reaching a route of an included router also costs a scan
    of that router's routes; the hot path therefore sits first and directly on the app. It takes
    no dependencies (:func:`predict_endpoint` checks the API key itself, like every /v1 route),
    so it is a :class:`~app.api.http.direct_route.DirectRoute`: FastAPI's parameter resolution,
    which would find nothing to do, is skipped too.
    """
    app.router.add_api_route(
        "/v1/models/{model_id}/predict",
        predict_endpoint(app),
        route_class_override=DirectRoute,
        methods=["POST"],
        operation_id="predict",
        tags=["predictions"],
        response_model=PredictResponse,
        responses={
            **PROBLEMS,
            200: {"content": {"application/json": {}, CSV: {}}},
            400: {"description": "Body is not valid JSON", "model": Problem},
            406: {"description": "Neither JSON nor CSV accepted", "model": Problem},
        },
        openapi_extra=_PREDICT_DOCS,
    )
    routes = app.router.routes
    routes.insert(0, routes.pop())


def _predict_big(loaded: LoadedModel, rows: object, max_rows: int, media: str) -> bytes:
    prediction = serve_rows(loaded, rows, max_rows)
    return csv_table(prediction).encode() if media == CSV else _prediction_body(prediction)


def _predict_table(loaded: LoadedModel, rows: object, max_rows: int, media: str) -> bytes:
    prediction, warnings = predict_table(loaded, rows, max_rows)
    if media == CSV:
        return csv_table(prediction).encode()
    return _prediction_body(prediction, warnings)
