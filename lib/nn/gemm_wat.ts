/**
 * The WebAssembly text of this project's matrix product kernel, `gemm`: `C = bias + A·B`
 * (optionally clamped at 0, a fused ReLU), on 128-bit SIMD in 6×8 register tiles.
 *
 * Each output is summed over `k` in order, starting from its bias (or +0), with a separate
 * multiply and add per term: the order and rounding of XNNPACK's f32 GEMM, which tfjs-wasm's
 * `MatMul` runs, so the results are bit-identical to `tf.matMul` (tested in
 * `tests/wasm_gemm_test.ts`), and so are the ReLU's (XNNPACK's x86 clamp, `pmax(0, x)`)
 * and the fused ReLU derivative's.
 * What it saves over `tf.matMul`: XNNPACK packs its right-hand operand anew for every
 * product, and a transposed left-hand operand (`Aᵀ·B`, every weight gradient) needs a
 * separate `tf.transpose` first; here `A` is read through strides.
 *
 * `deno task build-wasm` compiles this text into `gemm_wasm.ts`.
 *
 * The exported function, with every pointer a byte offset in the imported memory and every
 * stride in floats:
 * `gemm(a, b, c, bias, m, k, n, strideRowA, strideColA, relu, mask)`: `A(i, p)` is at
 * `a + 4·(i·strideRowA + p·strideColA)`, `B` is `[k, n]` row-major, `C` is `[m, n]`
 * row-major, `bias` is `[n]` or 0 for none, `relu` is 0 or 1, and `mask` is `[m, n]` or 0
 * for none: each output is multiplied by `step(mask)` (1 where the mask is positive, NaN
 * where it is NaN, else 0), as `tf.mul(C, tf.step(mask))` would.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gemmWat } from "./gemm_wat.ts";
 * assert.match(gemmWat(), /^\(module/);
 * assert.doesNotMatch(gemmWat(), /relaxed_madd/);
 * assert.match(gemmWat({ fused: true }), /f32x4\.relaxed_madd/);
 * ```
 *
 * @module
 */

/** Rows of a register tile (12 vector accumulators); the rows left run 4, then 1 at a time. */
const TILE_ROWS = 6;

/** `(i32.add x y)` and friends, to keep the generated text readable. */
const add = (x: string, y: string) => `(i32.add ${x} ${y})`;
const get = (name: string) => `(local.get $${name})`;
const shl2 = (x: string) => `(i32.shl ${x} (i32.const 2))`;

/** The accumulators' start: the bias at column `j0` (+ 16·`v` bytes), or +0. */
function accumulatorStart(vectors: number, v: number): string {
  const biasAt = add(get("bias"), shl2(get("j0")));
  if (vectors === 0) {
    return `(if (result f32) ${get("bias")} (then (f32.load ${biasAt})) (else (f32.const 0)))`;
  }
  return `(if (result v128) ${get("bias")} (then (v128.load offset=${16 * v} ${biasAt}))` +
    ` (else (v128.const i32x4 0 0 0 0)))`;
}

/** The address of `A(i0 + r, p)`: the tile's one pointer plus row `r`'s offset. */
function rowAddress(r: number): string {
  return r === 0 ? get("pa") : add(get("pa"), get(`offset${r}`));
}

/** One step of `k` of a tile: every accumulator adds `A(i, p) · B(p, j…)`. */
function tileStep(rows: number, vectors: number, fused: boolean): string[] {
  const lines: string[] = [];
  if (vectors === 0) {
    lines.push(`(local.set $sb (f32.load ${get("pb")}))`);
    for (let r = 0; r < rows; r++) {
      const term = `(f32.mul (f32.load ${rowAddress(r)}) ${get("sb")})`;
      lines.push(`(local.set $s${r} (f32.add ${get(`s${r}`)} ${term}))`);
    }
    return lines;
  }
  for (let v = 0; v < vectors; v++) {
    lines.push(`(local.set $vb${v} (v128.load offset=${16 * v} ${get("pb")}))`);
  }
  for (let r = 0; r < rows; r++) {
    lines.push(`(local.set $va (v128.load32_splat ${rowAddress(r)}))`);
    for (let v = 0; v < vectors; v++) {
      const acc = `v${r}_${v}`, va = get("va"), vb = get(`vb${v}`);
      const sum = fused
        ? `(f32x4.relaxed_madd ${va} ${vb} ${get(acc)})`
        : `(f32x4.add ${get(acc)} (f32x4.mul ${va} ${vb}))`;
      lines.push(`(local.set $${acc} ${sum})`);
    }
  }
  return lines;
}

/** `x` (f32) times `step(m)`: 1 where `m > 0`, NaN where `m` is NaN, else 0 (as `tf.step`). */
function scalarMasked(x: string, m: string): string {
  const step = `(select (f32.const 1) (select (f32.const nan) (f32.const 0) (f32.ne ${m} ${m}))` +
    ` (f32.gt ${m} (f32.const 0)))`;
  return `(f32.mul ${x} ${step})`;
}

/** The same for four lanes. */
function vectorMasked(x: string, m: string): string {
  const one = "(v128.and (f32x4.gt ${m} (v128.const i32x4 0 0 0 0)) (v128.const f32x4 1 1 1 1))";
  const nan = "(v128.and (f32x4.ne ${m} ${m}) (v128.const f32x4 nan nan nan nan))";
  return `(f32x4.mul ${x} (v128.or ${one.replaceAll("${m}", m)} ${nan.replaceAll("${m}", m)}))`;
}

/**
 * Stores a tile's accumulators into `C`: clamped at 0 when `relu` is set, times `step(mask)`
 * when `mask` is set (a ReLU's derivative, fused into the product of its backward pass).
 */
function tileStore(rows: number, vectors: number): string[] {
  const lines: string[] = [];
  for (let r = 0; r < rows; r++) {
    const row = `(i32.mul ${add(get("i0"), `(i32.const ${r})`)} ${get("n")})`;
    const at = shl2(add(row, get("j0")));
    const address = add(get("c"), at);
    const maskAt = add(get("mask"), at);
    if (vectors === 0) {
      const x = get(`s${r}`);
      // pmax(0, x) as XNNPACK's x86 kernels clamp: 0 < x ? x : 0 (NaN and -0 give +0).
      const clamped = `(select ${x} (f32.const 0) (f32.lt (f32.const 0) ${x}))`;
      const masked = scalarMasked(x, `(f32.load ${maskAt})`);
      const unclamped = `(if (result f32) ${get("mask")} (then ${masked}) (else ${x}))`;
      const value = `(select ${clamped} ${unclamped} ${get("relu")})`;
      lines.push(`(f32.store ${address} ${value})`);
      continue;
    }
    for (let v = 0; v < vectors; v++) {
      const x = get(`v${r}_${v}`);
      const clamped = `(f32x4.pmax (v128.const i32x4 0 0 0 0) ${x})`;
      const masked = vectorMasked(x, `(v128.load offset=${16 * v} ${maskAt})`);
      const unclamped = `(if (result v128) ${get("mask")} (then ${masked}) (else ${x}))`;
      const value = `(select (result v128) ${clamped} ${unclamped} ${get("relu")})`;
      lines.push(`(v128.store offset=${16 * v} ${address} ${value})`);
    }
  }
  return lines;
}

/** A tile of `rows` rows and `vectors` 4-float columns (0: one scalar column) at `(i0, j0)`. */
function tile(rows: number, vectors: number, fused: boolean): string {
  const name = `${rows}_${vectors}`;
  const lines = [`(local.set $pb ${add(get("b"), shl2(get("j0")))})`];
  lines.push(`(local.set $pa ${add(get("a"), `(i32.mul ${get("i0")} ${get("rowA")})`)})`);
  for (let r = 0; r < rows; r++) {
    if (vectors === 0) lines.push(`(local.set $s${r} ${accumulatorStart(0, 0)})`);
    for (let v = 0; v < vectors; v++) {
      lines.push(`(local.set $v${r}_${v} ${accumulatorStart(vectors, v)})`);
    }
  }
  lines.push(
    `(local.set $p ${get("k")})`,
    `(block $done${name} (loop $next${name}`,
    `(br_if $done${name} (i32.eqz ${get("p")}))`,
    ...tileStep(rows, vectors, fused),
  );
  lines.push(`(local.set $pa ${add(get("pa"), get("colA"))})`);
  lines.push(
    `(local.set $pb ${add(get("pb"), get("rowB"))})`,
    `(local.set $p (i32.sub ${get("p")} (i32.const 1)))`,
    `(br $next${name})))`,
    ...tileStore(rows, vectors),
  );
  return lines.join("\n");
}

/** Every column of a block of `rows` rows: 8 at a time, then 4, then one by one. */
function columns(rows: number, fused: boolean): string {
  const next = (by: number) => `(local.set $j0 ${add(get("j0"), `(i32.const ${by})`)})`;
  const fits = (width: number) =>
    `(i32.le_s ${add(get("j0"), `(i32.const ${width})`)} ${get("n")})`;
  return `(local.set $j0 (i32.const 0))
(block $end8_${rows} (loop $cols8_${rows}
  (br_if $end8_${rows} (i32.eqz ${fits(8)}))
  ${tile(rows, 2, fused)}
  ${next(8)}
  (br $cols8_${rows})))
(if ${fits(4)} (then
  ${tile(rows, 1, fused)}
  ${next(4)}))
(block $end1_${rows} (loop $cols1_${rows}
  (br_if $end1_${rows} (i32.ge_s ${get("j0")} ${get("n")}))
  ${tile(rows, 0, fused)}
  ${next(1)}
  (br $cols1_${rows})))`;
}

/** The locals of `gemm` (registers: 12 vector accumulators, 2 of `B`, 1 of `A`). */
function locals(): string {
  const names = ["i0 i32", "j0 i32", "p i32", "pa i32", "pb i32", "rowA i32", "colA i32"];
  names.push("rowB i32", "va v128", "vb0 v128", "vb1 v128", "sb f32");
  for (let r = 1; r < TILE_ROWS; r++) names.push(`offset${r} i32`);
  for (let r = 0; r < TILE_ROWS; r++) names.push(`v${r}_0 v128`, `v${r}_1 v128`, `s${r} f32`);
  return names.map((name) => `(local $${name})`).join(" ");
}

/** `offset_r = r · rowA`, the byte offsets of a tile's rows from its first. */
function offsets(): string {
  const lines = [];
  for (let r = 1; r < TILE_ROWS; r++) {
    lines.push(`(local.set $offset${r} (i32.mul ${get("rowA")} (i32.const ${r})))`);
  }
  return lines.join("\n");
}

/** Whether `rows` more rows fit from `i0`. */
const rowsFit = (rows: number) => `(i32.le_s ${add(get("i0"), `(i32.const ${rows})`)} ${get("m")})`;

/** `i0 += rows`. */
const nextRows = (rows: number) => `(local.set $i0 ${add(get("i0"), `(i32.const ${rows})`)})`;

/**
 * The kernel's module text (imports `env.memory`, exports `gemm`); with `fused`, its terms are
 * fused multiply-adds (relaxed SIMD). The memory is declared with tfjs-wasm's maximum, 65 536
 * pages, so that the same bytes, with the import's limits flag set to shared, also run on a
 * shared memory (`gemmBytes` in `wasm_gemm.ts`).
 */
export function gemmWat({ fused = false }: { fused?: boolean } = {}): string {
  const params = [
    "a",
    "b",
    "c",
    "bias",
    "m",
    "k",
    "n",
    "strideRowA",
    "strideColA",
    "relu",
    "mask",
  ];
  return `(module
(import "env" "memory" (memory 1 65536))
(func (export "gemm") ${params.map((p) => `(param $${p} i32)`).join(" ")}
  ${locals()}
  (local.set $rowA ${shl2(get("strideRowA"))})
  (local.set $colA ${shl2(get("strideColA"))})
  (local.set $rowB ${shl2(get("n"))})
  ${offsets()}
  (local.set $i0 (i32.const 0))
  (block $end${TILE_ROWS} (loop $rows${TILE_ROWS}
    (br_if $end${TILE_ROWS} (i32.eqz ${rowsFit(TILE_ROWS)}))
    ${columns(TILE_ROWS, fused)}
    ${nextRows(TILE_ROWS)}
    (br $rows${TILE_ROWS})))
  (if ${rowsFit(4)} (then
    ${columns(4, fused)}
    ${nextRows(4)}))
  (block $end1 (loop $rows1
    (br_if $end1 (i32.eqz ${rowsFit(1)}))
    ${columns(1, fused)}
    ${nextRows(1)}
    (br $rows1))))
)
`;
}
