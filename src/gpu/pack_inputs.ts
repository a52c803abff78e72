/**
 * Fills `packed` (2R + V + 1,) with the ids (R,), then the rows grouped by id as start (V+1,) and rows (R,),
 * so that the scatter-adds of backward (one-hot input projection, embedding) sum only their own rows.
 */
export function packInputs(packed: Uint32Array, ids: Uint32Array, R: number, V: number): void {
  packed.set(ids.subarray(0, R));
  const start = packed.subarray(R, R + V + 1);
  const rows = packed.subarray(R + V + 1, 2 * R + V + 1);
  start.fill(0);
  for (let r = 0; r < R; r++) if (ids[r] < V) start[ids[r] + 1]++;
  for (let v = 0; v < V; v++) start[v + 1] += start[v];
  // Fill each group in row order, using start[v] as its cursor, then shift the cursors back.
  for (let r = 0; r < R; r++) if (ids[r] < V) rows[start[ids[r]]++] = r;
  for (let v = V; v > 0; v--) start[v] = start[v - 1];
  start[0] = 0;
}
