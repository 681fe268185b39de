// Compiled with the types openapi-typescript generates from /openapi.json (annserve.d.ts):
// the shapes a TypeScript client relies on must be there and precise.
import type { components, operations, paths } from "./annserve";

type DatasetPage =
  paths["/v1/datasets"]["get"]["responses"][200]["content"]["application/json"];
type Problem = components["schemas"]["Problem"];
type Prediction = operations["predict"]["responses"][200]["content"]["application/json"];
type Png =
  paths["/v1/models/{model_id}/decision-boundary.png"]["get"]["responses"][200]["content"]["image/png"];
type NotModified =
  paths["/v1/models/{model_id}/decision-boundary.png"]["get"]["responses"][304];
type TrainBody =
  operations["trainModel"]["requestBody"]["content"]["application/json"];

export function firstId(page: DatasetPage): string | undefined {
  const total: number = page.total;
  return total > 0 ? page.items[0]?.id : undefined;
}

export function describe(problem: Problem): string {
  return `${problem.status} ${problem.code}: ${problem.detail}`;
}

export function labels(prediction: Prediction): string[] {
  return prediction.predictions.map((p) => JSON.stringify(p));
}

export const image: Png = "binary";
export const unchanged: NotModified["headers"]["ETag"] = '"abc"';
export const body: TrainBody = { dataset_id: "ds_0123456789abcdef", n_iter: 100 };
