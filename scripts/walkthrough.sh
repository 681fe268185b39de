#!/usr/bin/env bash
# A curl walkthrough of the annserve API: datasets, models, training, predictions, errors. The README shows the part
# between the BEGIN/END markers verbatim, and the test suite runs this script against a live
# server, so the documented commands are known to work.
#
#   scripts/walkthrough.sh [BASE_URL]        (default http://localhost:8000)
#   API_KEY=... scripts/walkthrough.sh       (when the server has ANNSERVE_API_KEYS set)
set -euo pipefail

BASE="${1:-${BASE_URL:-http://localhost:8000}}"
AUTH=()
if [[ -n "${API_KEY:-}" ]]; then AUTH=(-H "Authorization: Bearer ${API_KEY}"); fi
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

api() { curl -fsS "${AUTH[@]}" "$@"; }                       # fails on any HTTP error
field() {  # print one top-level field of a JSON response (strings bare, the rest as JSON)
  python3 -c 'import json, sys; v = json.load(sys.stdin)[sys.argv[1]]
print(v if isinstance(v, str) else json.dumps(v))' "$1"
}
step() { printf '\n== %s\n' "$*"; }

# BEGIN WALKTHROUGH
step "liveness and readiness"
curl -fsS "$BASE/healthz"; echo
curl -fsS "$BASE/readyz"; echo

step "a toy dataset: the notes' circle, 400 points, 20% held out"
CIRCLE=$(api -X POST "$BASE/v1/datasets/generate" -H 'Content-Type: application/json' \
  -d '{"kind": "circle", "n_samples": 400, "noise": 0.1, "seed": 0}' | field id)
echo "dataset $CIRCLE"

step "a dataset from JSON rows (string labels become the class names)"
api -X POST "$BASE/v1/datasets" -H 'Content-Type: application/json' -d '{
  "name": "xor", "features": [[0, 0], [0, 1], [1, 0], [1, 1], [0, 0], [1, 1]],
  "targets": ["off", "on", "on", "off", "off", "off"], "test_fraction": 0.34}' | field classes

step "a dataset from a CSV file (target column chosen by name)"
printf 'species,length,width\ncat,1.0,2.0\ndog,3.5,4.0\ncat,1.2,2.2\ndog,3.3,4.4\n' > "$WORK/pets.csv"
PETS=$(api -X POST "$BASE/v1/datasets/upload" -F "file=@$WORK/pets.csv;type=text/csv" \
  -F target=species -F test_fraction=0.5 | field id)
api "$BASE/v1/datasets/$PETS" | field stats

step "list, describe, export and plot"
api "$BASE/v1/datasets?limit=2&offset=0" | field total
api "$BASE/v1/datasets/$CIRCLE" | field n_train
api "$BASE/v1/datasets/$PETS/data" -H 'Accept: text/csv'
api "$BASE/v1/datasets/$CIRCLE/plot.png" -o "$WORK/circle.png" -w '%{content_type}, %{size_download} bytes\n'

step "a model shaped by the dataset: 2-4-1, tanh hidden layer, sigmoid output, Glorot, seed 2"
MODEL=$(api -X POST "$BASE/v1/models" -H 'Content-Type: application/json' -d "{
  \"name\": \"circle-net\", \"dataset_id\": \"$CIRCLE\",
  \"hidden_layers\": [{\"units\": 4, \"activation\": \"tanh\"}], \"init\": \"glorot\"}" | field id)
api "$BASE/v1/models/$MODEL" | field n_parameters
api -X PATCH "$BASE/v1/models/$MODEL" -H 'Content-Type: application/json' \
  -d '{"description": "the notes exercise"}' | field description
api "$BASE/v1/models?task=binary" | field total
api "$BASE/v1/models/$MODEL/versions"; echo
api "$BASE/v1/models/$MODEL/parameters" | python3 -c 'import json, sys
for p in json.load(sys.stdin)["parameters"]: print(p["name"], p["shape"])'
api "$BASE/v1/models/$MODEL/parameters" -H 'Accept: application/x-npz' -o "$WORK/v0.npz" \
  -w '%{content_type}, %{size_download} bytes\n'

step "errors are application/problem+json with a stable code"
curl -sS "${AUTH[@]}" "$BASE/v1/models/not-an-id"; echo
curl -sS "${AUTH[@]}" -X POST "$BASE/v1/models" -H 'Content-Type: application/json' \
  -d '{"name": "bad", "task": "binary", "n_inputs": 2,
       "hidden_layers": [{"units": 0, "activation": "swish"}]}'; echo

step "train it as the notes do: 10,000 passes of gradient descent, learning rate 0.1 (a job)"
JOB=$(api -X POST "$BASE/v1/models/$MODEL/train" -H 'Content-Type: application/json' \
  -d "{\"dataset_id\": \"$CIRCLE\", \"n_iter\": 10000, \"learning_rate\": 0.1,
       \"validation\": \"test\", \"record_every\": 10}" | field id)
echo "job $JOB"
until [[ "$(api "$BASE/v1/jobs/$JOB" | field status)" =~ ^(succeeded|failed|cancelled)$ ]]; do
  sleep 0.2
done
api "$BASE/v1/jobs/$JOB" | field result
api "$BASE/v1/jobs/$JOB/events" | tail -n 4      # Server-Sent Events: progress, then the status
api "$BASE/v1/jobs/$JOB/history" -H 'Accept: text/csv' | sed -n '1,3p'  # reads it all: curl never writes to a closed pipe
api "$BASE/v1/jobs/$JOB/cost-curve.png?log_y=true" -o "$WORK/cost.png" \
  -w '%{content_type}, %{size_download} bytes\n'

step "predict, accuracy and evaluation with the trained version"
api -X POST "$BASE/v1/models/$MODEL/predict" -H 'Content-Type: application/json' \
  -d '{"inputs": [[0.0, 0.0], [4.5, 0.0]]}'; echo
api "$BASE/v1/models/$MODEL/accuracy?dataset_id=$CIRCLE&split=test"; echo
api -X POST "$BASE/v1/models/$MODEL/evaluate" -H 'Content-Type: application/json' \
  -d "{\"dataset_id\": \"$CIRCLE\", \"split\": \"test\"}" | field confusion_matrix

step "the same model through the Open Inference Protocol (KServe v2)"
api "$BASE/v2/models/$MODEL" | field inputs
api -X POST "$BASE/v2/models/$MODEL/infer" -H 'Content-Type: application/json' -d '{"id": "r1",
  "inputs": [{"name": "input", "shape": [1, 2], "datatype": "FP32", "data": [0.0, 0.0]}]}'; echo

step "images and export"
api "$BASE/v1/models/$MODEL/decision-boundary.png?dataset_id=$CIRCLE" -o "$WORK/boundary.png" \
  -w '%{content_type}, %{size_download} bytes\n'
api "$BASE/v1/models/$MODEL/weights.png?format=svg" -o "$WORK/weights.svg" \
  -w '%{content_type}, %{size_download} bytes\n'
api "$BASE/v1/models/$MODEL/export?format=json" | field architecture

step "clean up"
api -X DELETE "$BASE/v1/models/$MODEL" -o /dev/null -w '%{http_code}\n'
api -X DELETE "$BASE/v1/datasets/$PETS" -o /dev/null -w '%{http_code}\n'
# END WALKTHROUGH
echo
echo "walkthrough finished"
