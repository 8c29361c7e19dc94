/**
 * The WebAssembly text of the one-row forward pass, `forward`: a whole network applied to
 * one observation in float64, as `Mlp.forward` computes it, on 128-bit SIMD (two float64
 * lanes).
 *
 * Each layer's output `j` starts from its bias and adds `x[i] · w[i, j]` for every input `i`
 * in order, skipping inputs that are zero, with a separate multiply and add in float64 per
 * term (a float32 weight is widened exactly first). That is the order and rounding of the
 * plain loop it replaced, so results are bit-identical (tested in
 * `tests/row_forward_test.ts`). Four input rows go through together and eight outputs are
 * summed side by side, which keeps four independent chains of additions in flight.
 * Activations follow each layer: ReLU (`x < 0 ? 0 : x`), tanh (`Math.tanh`, imported),
 * sigmoid (`1 / (1 + Math.exp(-x))`, with `Math.exp` imported) or none.
 *
 * `deno task build-wasm` compiles this text into `row_forward_wasm.ts`.
 *
 * The exported function, with every pointer a byte offset in the module's own memory:
 * `forward(desc)`, where `desc` holds i32 words: the number of layers, a scratch area of
 * one i32 per input of the widest layer, then per layer seven words: its input (f64), input
 * count, output count, kernel (f32, row-major `[in, out]`), bias (f32), output (f64) and
 * activation code ({@linkcode ACTIVATION_CODES}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rowForwardWat } from "./row_forward_wat.ts";
 * assert.match(rowForwardWat(), /^\(module/);
 * ```
 *
 * @module
 */
import type { Activation } from "./activation.ts";

/** Each activation's code in a layer's description. */
export const ACTIVATION_CODES: Readonly<Record<Activation, number>> = {
  linear: 0,
  relu: 1,
  tanh: 2,
  sigmoid: 3,
};

/** Words of a layer's description. */
export const LAYER_WORDS = 7;

/** Input rows summed together; the rows left go one at a time. */
const GROUP_ROWS = 4;

const get = (name: string) => `(local.get $${name})`;
const add = (x: string, y: string) => `(i32.add ${x} ${y})`;
const times = (x: string, bytes: number) => `(i32.shl ${x} (i32.const ${Math.log2(bytes)}))`;

/** The output address of column `j` (f64) and the weight address in row `r` (f32). */
const outputAt = () => add(get("y"), times(get("j"), 8));
const weightAt = (r: number) => add(get(`w${r}`), times(get("j"), 4));

/** `vectors` blocks of two outputs at column `j`, each adding the group's `rows` terms. */
function vectorColumns(rows: number, vectors: number): string[] {
  const lines: string[] = [];
  for (let v = 0; v < vectors; v++) {
    lines.push(`(local.set $a${v} (v128.load offset=${16 * v} ${outputAt()}))`);
  }
  for (let r = 0; r < rows; r++) {
    for (let v = 0; v < vectors; v++) {
      const weights = `(f64x2.promote_low_f32x4 (v128.load64_zero offset=${8 * v} ${weightAt(r)}))`;
      const term = `(f64x2.mul ${get(`s${r}`)} ${weights})`;
      lines.push(`(local.set $a${v} (f64x2.add ${get(`a${v}`)} ${term}))`);
    }
  }
  for (let v = 0; v < vectors; v++) {
    lines.push(`(v128.store offset=${16 * v} ${outputAt()} ${get(`a${v}`)})`);
  }
  return lines;
}

/** The last, odd column. */
function scalarColumn(rows: number): string[] {
  const lines = [`(local.set $t (f64.load ${outputAt()}))`];
  for (let r = 0; r < rows; r++) {
    const term = `(f64.mul ${get(`x${r}`)} (f64.promote_f32 (f32.load ${weightAt(r)})))`;
    lines.push(`(local.set $t (f64.add ${get("t")} ${term}))`);
  }
  lines.push(`(f64.store ${outputAt()} ${get("t")})`);
  return lines;
}

/** Every output column for a group of `rows` active input rows: 8, then 2, then 1 at a time. */
function columns(rows: number): string {
  const fits = (width: number) => `(i32.le_u ${add(get("j"), `(i32.const ${width})`)} ${get("n")})`;
  const next = (width: number) => `(local.set $j ${add(get("j"), `(i32.const ${width})`)})`;
  return `(local.set $j (i32.const 0))
(block $end8_${rows} (loop $next8_${rows}
  (br_if $end8_${rows} (i32.eqz ${fits(8)}))
  ${vectorColumns(rows, 4).join("\n")}
  ${next(8)}
  (br $next8_${rows})))
(block $end2_${rows} (loop $next2_${rows}
  (br_if $end2_${rows} (i32.eqz ${fits(2)}))
  ${vectorColumns(rows, 1).join("\n")}
  ${next(2)}
  (br $next2_${rows})))
(if ${fits(1)} (then
  ${scalarColumn(rows).join("\n")}))`;
}

/** Loads the group's `rows` active inputs (from the scratch list at `k`) and their rows. */
function groupStart(rows: number): string {
  const lines: string[] = [];
  for (let r = 0; r < rows; r++) {
    const index = `(i32.load offset=${4 * r} ${add(get("idx"), times(get("k"), 4))})`;
    lines.push(`(local.set $i ${index})`);
    lines.push(`(local.set $x${r} (f64.load ${add(get("x"), times(get("i"), 8))}))`);
    lines.push(`(local.set $s${r} (f64x2.splat ${get(`x${r}`)}))`);
    lines.push(`(local.set $w${r} ${add(get("w"), `(i32.mul ${get("i")} ${get("rowBytes")})`)})`);
  }
  return lines.join("\n");
}

/** Every active input row: groups of {@linkcode GROUP_ROWS}, then one at a time. */
function rowGroups(): string {
  const fits = (rows: number) =>
    `(i32.le_u ${add(get("k"), `(i32.const ${rows})`)} ${get("active")})`;
  return [GROUP_ROWS, 1].map((rows) =>
    `(block $end_rows${rows} (loop $next_rows${rows}
  (br_if $end_rows${rows} (i32.eqz ${fits(rows)}))
  ${groupStart(rows)}
  ${columns(rows)}
  (local.set $k ${add(get("k"), `(i32.const ${rows})`)})
  (br $next_rows${rows})))`
  ).join("\n");
}

/** `y = bias`, widened to f64. */
const BIAS = `(local.set $j (i32.const 0))
(block $end_bias (loop $next_bias
  (br_if $end_bias (i32.ge_u ${get("j")} ${get("n")}))
  (f64.store ${outputAt()} (f64.promote_f32 (f32.load ${add(get("b"), times(get("j"), 4))})))
  (local.set $j ${add(get("j"), "(i32.const 1)")})
  (br $next_bias)))`;

/** The indices of the nonzero inputs into the scratch list; `active` counts them. */
const ACTIVE_ROWS = `(local.set $i (i32.const 0))
(local.set $active (i32.const 0))
(block $end_scan (loop $next_scan
  (br_if $end_scan (i32.ge_u ${get("i")} ${get("m")}))
  (if (f64.ne (f64.load ${add(get("x"), times(get("i"), 8))}) (f64.const 0)) (then
    (i32.store ${add(get("idx"), times(get("active"), 4))} ${get("i")})
    (local.set $active ${add(get("active"), "(i32.const 1)")})))
  (local.set $i ${add(get("i"), "(i32.const 1)")})
  (br $next_scan)))`;

/** The layer's activation on each output, by its code. */
const ACTIVATE = `(local.set $j (i32.const 0))
(block $end_act (loop $next_act
  (br_if $end_act (i32.ge_u ${get("j")} ${get("n")}))
  (local.set $t (f64.load ${outputAt()}))
  (block $done
    (br_if $done (i32.eqz ${get("activation")}))
    (if (i32.eq ${get("activation")} (i32.const ${ACTIVATION_CODES.relu})) (then
      (local.set $t (select (f64.const 0) ${get("t")} (f64.lt ${get("t")} (f64.const 0))))
      (br $done)))
    (if (i32.eq ${get("activation")} (i32.const ${ACTIVATION_CODES.tanh})) (then
      (local.set $t (call $tanh ${get("t")}))
      (br $done)))
    (local.set $t (f64.div (f64.const 1)
      (f64.add (f64.const 1) (call $exp (f64.neg ${get("t")}))))))
  (f64.store ${outputAt()} ${get("t")})
  (local.set $j ${add(get("j"), "(i32.const 1)")})
  (br $next_act)))`;

/** The locals of `layer`. */
function locals(): string {
  const names = ["i i32", "j i32", "k i32", "active i32", "rowBytes i32", "t f64"];
  for (let r = 0; r < GROUP_ROWS; r++) names.push(`x${r} f64`, `s${r} v128`, `w${r} i32`);
  for (let v = 0; v < 4; v++) names.push(`a${v} v128`);
  return names.map((name) => `(local $${name})`).join(" ");
}

/** A layer's description word `w` (of layer `l`). */
const word = (w: number) => `(i32.load offset=${4 * w} ${get("at")})`;

/**
 * The module's text: imports `math.exp` and `math.tanh` (JavaScript's, so that activations
 * round as `Math.exp` and `Math.tanh` do), exports its memory and `forward`.
 */
export function rowForwardWat(): string {
  const layerParams = ["x", "m", "n", "w", "b", "y", "activation", "idx"];
  return `(module
(import "math" "exp" (func $exp (param f64) (result f64)))
(import "math" "tanh" (func $tanh (param f64) (result f64)))
(memory (export "memory") 1)
(func $layer ${layerParams.map((p) => `(param $${p} i32)`).join(" ")}
  ${locals()}
  (local.set $rowBytes ${times(get("n"), 4)})
  ${BIAS}
  ${ACTIVE_ROWS}
  (local.set $k (i32.const 0))
  ${rowGroups()}
  ${ACTIVATE})
(func (export "forward") (param $desc i32)
  (local $left i32) (local $at i32)
  (local.set $left (i32.load ${get("desc")}))
  (local.set $at (i32.add ${get("desc")} (i32.const 8)))
  (block $end (loop $next
    (br_if $end (i32.eqz ${get("left")}))
    (call $layer ${[0, 1, 2, 3, 4, 5, 6].map(word).join(" ")}
      (i32.load offset=4 ${get("desc")}))
    (local.set $at (i32.add ${get("at")} (i32.const ${4 * LAYER_WORDS})))
    (local.set $left (i32.sub ${get("left")} (i32.const 1)))
    (br $next))))
)
`;
}
