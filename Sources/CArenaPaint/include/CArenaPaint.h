#ifndef ARENA_PAINT_H
#define ARENA_PAINT_H

#include <stdint.h>

// Paints host cells straight into an I420 output frame with libyuv: a source frame's crop
// scaled into a cell's rectangle in one pass per plane, or a cell filled with one colour.

/// A rectangle in pixels.
typedef struct {
    int x, y, width, height;
} arena_rect;

/// A YUV source frame, read only: planar (three planes, chroma subsampled by
/// 2^chroma_shift_x horizontally and 2^chroma_shift_y vertically: 1, 1 for 4:2:0; 1, 0 for
/// 4:2:2; 0, 0 for 4:4:4) or semi-planar 4:2:0 (two planes, uv_interleaved 1 for NV12, whose
/// pairs are U then V, 2 for NV21). `depth`: bits a sample, 8 (or 0) for a byte each, 9 to 16
/// for native-order 16-bit samples (planar only: 10-bit I420_10LE, say), which are narrowed to
/// 8 bits as they are scaled. Strides are in bytes.
typedef struct {
    const uint8_t *planes[3];
    int strides[3];
    int width, height;
    int chroma_shift_x, chroma_shift_y;
    int uv_interleaved;
    int depth;
} arena_source;

/// An I420 frame being made, writable.
typedef struct {
    uint8_t *planes[3];
    int strides[3];
    int width, height;
} arena_canvas;

/// Scales `crop` of `source` into `cell` of `canvas`, bilinear (our AVX2 filter up to an 8x
/// shrink; libyuv's beyond, for NV12 chroma, or without AVX2). Parts of the cell outside the
/// canvas are cut, with the matching part of the crop.
/// Returns 0, or -1 when the crop is not inside the source, a rectangle is empty, the depth is
/// not one it reads, or memory runs out.
int arena_paint_scaled(const arena_source *source, arena_rect crop, const arena_canvas *canvas, arena_rect cell);

/// Fills `cell` of `canvas` (cut to the canvas) with one colour.
void arena_paint_fill(const arena_canvas *canvas, arena_rect cell, uint8_t y, uint8_t u, uint8_t v);

/// Copies what `cell` of `canvas` (cut to the canvas) holds into `saved` (the Y rows, then U,
/// then V, packed). Returns the bytes it needs; with `saved` NULL it only says how many.
long arena_paint_save(const arena_canvas *canvas, arena_rect cell, uint8_t *saved);

/// Fades what `cell` holds now over what it held when `saved` was taken: `opacity` 0 (all the
/// saved picture) to 255 (all the new one).
void arena_paint_fade_over(const arena_canvas *canvas, arena_rect cell, const uint8_t *saved, int opacity);

/// Converts a premultiplied ARGB image (`width` x `height`, 32 bits a pixel, native order)
/// placed at (`shift_x`, `shift_y`) in a `box_width`-wide box with even edges: each pixel's
/// luma and alpha, and each 2 x 2 block's sums of Cb, Cr and alpha (for the caller to average).
/// `k` holds, in 1/65536: the luma offset (16 or 0, whole), Y from R, G, B; Cb from R, G, B;
/// Cr from R, G, B. Clear pixels are skipped.
void arena_overlay_convert(const uint32_t *pixels, int width, int height, int shift_x, int shift_y, int box_width,
                           const int32_t k[10], uint8_t *luma, uint8_t *luma_alpha, int32_t *cb_sum, int32_t *cr_sum,
                           int32_t *alpha_sum);

/// Premultiplied "over" for `count` samples of one plane: dst = src + dst (255 - alpha) / 255,
/// rounded, capped at 255 (a loop the compiler vectorises; a clear sample leaves dst as it is).
void arena_blend_row(uint8_t *dst, const uint8_t *src, const uint8_t *alpha, int count);

/// A change of colour matrix or range, coefficients in 1/65536:
/// Y' = y_gain (Y - y_in) + y_from_u (U - 128) + y_from_v (V - 128) + y_out, and
/// U' = uu (U - 128) + uv (V - 128) + 128, V' = vu (U - 128) + vv (V - 128) + 128.
typedef struct {
    int32_t y_gain, y_from_u, y_from_v, y_in, y_out;
    int32_t uu, uv, vu, vv;
} arena_matrix_change;

/// Applies `change` to `cell` of `canvas` (cut to the canvas), in place; each pixel's luma
/// uses the chroma of its 2 x 2 block.
void arena_paint_change_matrix(const arena_canvas *canvas, arena_rect cell, const arena_matrix_change *change);

#endif
