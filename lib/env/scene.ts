/**
 * A picture of an environment's state as plain data: shapes in world coordinates, which a
 * renderer (`lib/render/`) turns into SVG. Environments describe themselves with it; they
 * know nothing about SVG.
 *
 * @module
 */

/** An RGB colour, each channel in [0, 1] (MPE's convention). */
export type Rgb = readonly [number, number, number];

/** A filled circle (an MPE entity, a grid-world agent). */
export interface CircleShape {
  /** The shape's tag. */
  kind: "circle";
  /** Centre, world coordinates (y up). */
  x: number;
  /** Centre's y. */
  y: number;
  /** Radius, world units. */
  radius: number;
  /** Fill colour. */
  color: Rgb;
  /** Fill opacity in [0, 1]. @default 1 */
  opacity?: number;
  /** Outline colour; none when absent. */
  stroke?: Rgb;
  /** A short label drawn at the centre (an agent's index, say). */
  label?: string;
}

/** A filled rectangle (a grid cell, a goal). */
export interface RectShape {
  /** The shape's tag. */
  kind: "rect";
  /** Lower-left corner, world coordinates (y up). */
  x: number;
  /** Lower-left corner's y. */
  y: number;
  /** Width, world units. */
  width: number;
  /** Height, world units. */
  height: number;
  /** Fill colour. */
  color: Rgb;
  /** Fill opacity in [0, 1]. @default 1 */
  opacity?: number;
  /** Outline colour; none when absent. */
  stroke?: Rgb;
}

/** One shape of a {@linkcode Scene}. */
export type Shape = CircleShape | RectShape;

/** Everything a renderer needs to draw one state. */
export interface Scene {
  /** The world rectangle to show: `[xMin, yMin, xMax, yMax]`, y up. */
  view: readonly [number, number, number, number];
  /** Shapes in drawing order (later ones on top). */
  shapes: Shape[];
  /** Lines of text shown above the picture (e.g. MPE's "alice sends B to bob"). */
  messages: string[];
}
