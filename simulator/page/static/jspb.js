// Access to protobuf-as-JSON arrays that may pack trailing fields into an object keyed by the
// 1-based field number ({"26": ...}); both dense and object forms occur in real traffic.

export function isPlainObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

// Numbers are 0-based indexes, strings are object keys.
export function at(node, ...path) {
  let current = node;
  for (const key of path) {
    if (current === null || current === undefined) return undefined;
    if (typeof key === "number") {
      if (Array.isArray(current)) {
        const last = current[current.length - 1];
        if (key < current.length) current = current[key];
        else if (isPlainObject(last)) current = last[String(key + 1)];
        else return undefined;
      } else if (isPlainObject(current)) {
        current = current[String(key + 1)];
      } else {
        return undefined;
      }
    } else if (isPlainObject(current)) {
      current = current[key];
    } else if (Array.isArray(current) && isPlainObject(current[current.length - 1])) {
      current = current[current.length - 1][key];
    } else {
      return undefined;
    }
  }
  return current;
}

// First value stored under `key` in any object nested in `node` (depth-first).
export function findKey(node, key, depth = 0) {
  if (depth > 40 || node === null || typeof node !== "object") return undefined;
  if (isPlainObject(node) && Object.prototype.hasOwnProperty.call(node, key)) return node[key];
  for (const child of Array.isArray(node) ? node : Object.values(node)) {
    const found = findKey(child, key, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

export function strings(node, out = [], depth = 0) {
  if (typeof node === "string") out.push(node);
  else if (node !== null && typeof node === "object" && depth < 40) {
    for (const child of Array.isArray(node) ? node : Object.values(node)) strings(child, out, depth + 1);
  }
  return out;
}
