// The binary form of the service's neuron maps (GET .../neuron-maps?format=binary): the
// safetensors layout, 8 bytes of header length (little-endian), a JSON header, then float32
// little-endian tensors: "inputs", and per layer l "A<l>", "W<l>" and "b<l>".

const LITTLE_ENDIAN = new Uint8Array(new Float32Array([1]).buffer)[3] === 0x3f;

function floats(buffer, offset, count) {
  if (LITTLE_ENDIAN) return new Float32Array(buffer, offset, count);
  const view = new DataView(buffer, offset, count * 4);
  return Float32Array.from({ length: count }, (_, i) => view.getFloat32(4 * i, true));
}

/**
 * The maps of a binary answer in the shape of the JSON answer: `inputs[f]` and each layer's
 * `values[u]` are Float32Arrays of resolution² grid values; `W` and `b` plain arrays.
 */
export function readMapsFile(buffer) {
  const length = Number(new DataView(buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 8, length)));
  const head = JSON.parse(header.__metadata__.neuron_maps);
  const start = 8 + length;
  const tensor = (name) => {
    const entry = header[name];
    if (!entry || entry.dtype !== "F32") throw new Error(`the maps hold no float32 ${name}`);
    const [begin, end] = entry.data_offsets;
    return { shape: entry.shape, data: floats(buffer, start + begin, (end - begin) / 4) };
  };
  const split = ({ shape, data }) => {
    const size = data.length / shape[0];
    return Array.from({ length: shape[0] }, (_, i) => data.subarray(i * size, (i + 1) * size));
  };
  return {
    ...head,
    inputs: split(tensor("inputs")),
    layers: head.layers.map((layer) => ({
      ...layer,
      values: split(tensor(`A${layer.layer}`)),
      W: split(tensor(`W${layer.layer}`)).map((row) => Array.from(row)),
      b: Array.from(tensor(`b${layer.layer}`).data),
    })),
  };
}
