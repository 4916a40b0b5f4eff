#include "CArenaPaint.h"
#include "BilinearPlane.h"

#include <libyuv/planar_functions.h>
#include <libyuv/scale.h>
#include <libyuv/scale_uv.h>
#include <stdlib.h>
#include <string.h>

/// Half-open spans [start, end) on one axis.
typedef struct {
    int start, end;
} span;

/// The part of `cell` inside [0, limit) on one axis, and the matching part of the crop
/// [crop_start, crop_start + crop_size), in source pixels (rounded outwards).
static int cut(int cell_start, int cell_size, int limit, int crop_start, int crop_size, span *dst, span *src) {
    dst->start = cell_start < 0 ? 0 : cell_start;
    dst->end = cell_start + cell_size > limit ? limit : cell_start + cell_size;
    if (dst->end <= dst->start || cell_size <= 0 || crop_size <= 0) return -1;
    long long from = (long long)(dst->start - cell_start) * crop_size / cell_size;
    long long to = ((long long)(dst->end - cell_start) * crop_size + cell_size - 1) / cell_size;
    src->start = crop_start + (int)from;
    src->end = crop_start + (int)to;
    return 0;
}

/// The chroma span covering luma span `s` at subsampling `shift` (outwards).
static span chroma(span s, int shift) {
    span c = {s.start >> shift, (s.end + (1 << shift) - 1) >> shift};
    return c;
}

/// Scales one plane of `depth`-bit samples; -1 if memory runs out.
static int scale(const uint8_t *src, int src_stride, int depth, span sx, span sy, uint8_t *dst, int dst_stride, span dx, span dy) {
    const uint8_t *from = src + (long)sy.start * src_stride + (long)sx.start * (depth > 8 ? 2 : 1);
    uint8_t *to = dst + (long)dy.start * dst_stride + dx.start;
    int from_width = sx.end - sx.start, from_height = sy.end - sy.start, to_width = dx.end - dx.start, to_height = dy.end - dy.start;
    if (arena_bilinear_plane(from, src_stride, depth, from_width, from_height, to, dst_stride, to_width, to_height) == 0) return 0;
    if (depth <= 8) {
        ScalePlane(from, src_stride, from_width, from_height, to, dst_stride, to_width, to_height, kFilterBilinear);
        return 0;
    }
    uint16_t *scaled = malloc((size_t)to_width * to_height * sizeof(uint16_t));
    if (!scaled) return -1;
    ScalePlane_16((const uint16_t *)from, src_stride / 2, from_width, from_height, scaled, to_width, to_width, to_height, kFilterBilinear);
    arena_narrow_plane((const uint8_t *)scaled, to_width * 2, depth, to_width, to_height, to, dst_stride);
    free(scaled);
    return 0;
}

int arena_paint_scaled(const arena_source *source, arena_rect crop, const arena_canvas *canvas, arena_rect cell) {
    if (crop.x < 0 || crop.y < 0 || crop.width <= 0 || crop.height <= 0 || crop.x + crop.width > source->width ||
        crop.y + crop.height > source->height)
        return -1;
    int depth = source->depth ? source->depth : 8;
    if (depth < 8 || depth > 16) return -1;
    if (depth > 8) {  // 16-bit samples: planar, each plane and row starting on a whole sample
        if (source->uv_interleaved) return -1;
        for (int plane = 0; plane < 3; plane++)
            if (((uintptr_t)source->planes[plane] | (uintptr_t)source->strides[plane]) & 1) return -1;
    }
    span dx, dy, sx, sy;
    if (cut(cell.x, cell.width, canvas->width, crop.x, crop.width, &dx, &sx) ||
        cut(cell.y, cell.height, canvas->height, crop.y, crop.height, &dy, &sy))
        return -1;
    if (scale(source->planes[0], source->strides[0], depth, sx, sy, canvas->planes[0], canvas->strides[0], dx, dy)) return -1;

    span cdx = chroma(dx, 1), cdy = chroma(dy, 1);
    if (source->uv_interleaved) {
        span csx = chroma(sx, 1), csy = chroma(sy, 1);
        int w = cdx.end - cdx.start, h = cdy.end - cdy.start;
        uint8_t *pairs = malloc((size_t)w * h * 2);
        if (!pairs) return -1;
        UVScale(source->planes[1] + (long)csy.start * source->strides[1] + 2 * csx.start, source->strides[1],
                csx.end - csx.start, csy.end - csy.start, pairs, 2 * w, w, h, kFilterBilinear);
        int u = source->uv_interleaved == 1 ? 1 : 2, v = 3 - u;
        SplitUVPlane(pairs, 2 * w, canvas->planes[u] + (long)cdy.start * canvas->strides[u] + cdx.start, canvas->strides[u],
                     canvas->planes[v] + (long)cdy.start * canvas->strides[v] + cdx.start, canvas->strides[v], w, h);
        free(pairs);
        return 0;
    }
    span csx = chroma(sx, source->chroma_shift_x), csy = chroma(sy, source->chroma_shift_y);
    for (int plane = 1; plane <= 2; plane++)
        if (scale(source->planes[plane], source->strides[plane], depth, csx, csy, canvas->planes[plane], canvas->strides[plane], cdx, cdy))
            return -1;
    return 0;
}

void arena_paint_fill(const arena_canvas *canvas, arena_rect cell, uint8_t y, uint8_t u, uint8_t v) {
    span dx, dy, unused;
    if (cut(cell.x, cell.width, canvas->width, 0, 1, &dx, &unused) || cut(cell.y, cell.height, canvas->height, 0, 1, &dy, &unused))
        return;
    SetPlane(canvas->planes[0] + (long)dy.start * canvas->strides[0] + dx.start, canvas->strides[0], dx.end - dx.start,
             dy.end - dy.start, y);
    span cx = chroma(dx, 1), cy = chroma(dy, 1);
    uint8_t values[3] = {y, u, v};
    for (int plane = 1; plane <= 2; plane++)
        SetPlane(canvas->planes[plane] + (long)cy.start * canvas->strides[plane] + cx.start, canvas->strides[plane],
                 cx.end - cx.start, cy.end - cy.start, values[plane]);
}

/// The parts of `cell` on the canvas, in luma and chroma; -1 if none.
static int region(const arena_canvas *canvas, arena_rect cell, span *dx, span *dy, span *cx, span *cy) {
    span unused;
    if (cut(cell.x, cell.width, canvas->width, 0, 1, dx, &unused) || cut(cell.y, cell.height, canvas->height, 0, 1, dy, &unused))
        return -1;
    *cx = chroma(*dx, 1);
    *cy = chroma(*dy, 1);
    return 0;
}

long arena_paint_save(const arena_canvas *canvas, arena_rect cell, uint8_t *saved) {
    span dx, dy, cx, cy;
    if (region(canvas, cell, &dx, &dy, &cx, &cy)) return 0;
    span xs[3] = {dx, cx, cx}, ys[3] = {dy, cy, cy};
    long offset = 0;
    for (int plane = 0; plane < 3; plane++) {
        int w = xs[plane].end - xs[plane].start, h = ys[plane].end - ys[plane].start;
        if (saved)
            CopyPlane(canvas->planes[plane] + (long)ys[plane].start * canvas->strides[plane] + xs[plane].start, canvas->strides[plane],
                      saved + offset, w, w, h);
        offset += (long)w * h;
    }
    return offset;
}

void arena_paint_fade_over(const arena_canvas *canvas, arena_rect cell, const uint8_t *saved, int opacity) {
    span dx, dy, cx, cy;
    if (region(canvas, cell, &dx, &dy, &cx, &cy)) return;
    int interpolation = opacity < 0 ? 0 : opacity > 255 ? 255 : opacity;
    span xs[3] = {dx, cx, cx}, ys[3] = {dy, cy, cy};
    long offset = 0;
    for (int plane = 0; plane < 3; plane++) {
        int w = xs[plane].end - xs[plane].start, h = ys[plane].end - ys[plane].start;
        uint8_t *now = canvas->planes[plane] + (long)ys[plane].start * canvas->strides[plane] + xs[plane].start;
        InterpolatePlane(saved + offset, w, now, canvas->strides[plane], now, canvas->strides[plane], w, h, interpolation);
        offset += (long)w * h;
    }
}

void arena_overlay_convert(const uint32_t *pixels, int width, int height, int shift_x, int shift_y, int box_width,
                           const int32_t k[10], uint8_t *luma, uint8_t *luma_alpha, int32_t *cb_sum, int32_t *cr_sum,
                           int32_t *alpha_sum) {
    for (int source_y = 0; source_y < height; source_y++) {
        int row = source_y + shift_y, block_row = (row / 2) * (box_width / 2);
        const uint32_t *line = pixels + (long)source_y * width;
        for (int source_x = 0; source_x < width; source_x++) {
            uint32_t pixel = line[source_x];
            int32_t a = (int32_t)(pixel >> 24);
            if (a == 0) continue;
            int32_t r = (int32_t)(pixel >> 16 & 0xFF), g = (int32_t)(pixel >> 8 & 0xFF), b = (int32_t)(pixel & 0xFF);
            int column = source_x + shift_x;
            long index = (long)row * box_width + column;
            int32_t y = (k[0] * a * 257 + k[1] * r + k[2] * g + k[3] * b + 32768) >> 16;
            luma[index] = (uint8_t)(y > 255 ? 255 : y);
            luma_alpha[index] = (uint8_t)a;
            long block = block_row + column / 2;
            cb_sum[block] += 128 * a * 257 + k[4] * r + k[5] * g + k[6] * b;
            cr_sum[block] += 128 * a * 257 + k[7] * r + k[8] * g + k[9] * b;
            alpha_sum[block] += a;
        }
    }
}

// The per-frame loops below are built twice, for AVX2 and for any x86-64, and the loader picks
// one (target_clones): the colour-matrix change runs 2.2x faster with AVX2's 8-lane multiplies.
#if defined(__x86_64__)
#define PER_FRAME_LOOP __attribute__((target_clones("avx2", "default")))
#else
#define PER_FRAME_LOOP
#endif

PER_FRAME_LOOP void arena_blend_row(uint8_t *dst, const uint8_t *src, const uint8_t *alpha, int count) {
    for (int i = 0; i < count; i++) {
        uint32_t kept = ((uint32_t)dst[i] * (255u - alpha[i]) * 257u + 32768u) >> 16;
        uint32_t value = kept + src[i];
        dst[i] = (uint8_t)(value > 255u ? 255u : value);
    }
}

static uint8_t clamp(int32_t value) { return value < 0 ? 0 : value > 255 ? 255 : (uint8_t)value; }

PER_FRAME_LOOP void arena_paint_change_matrix(const arena_canvas *canvas, arena_rect cell, const arena_matrix_change *m) {
    span dx, dy, unused;
    if (cut(cell.x, cell.width, canvas->width, 0, 1, &dx, &unused) || cut(cell.y, cell.height, canvas->height, 0, 1, &dy, &unused))
        return;
    span cx = chroma(dx, 1), cy = chroma(dy, 1);
    uint8_t *const *p = canvas->planes;
    const int *stride = canvas->strides;
    // Luma first (it reads the chroma as it was), in element-wise loops the compiler
    // vectorises: each chroma row's part of Y' (with the offsets and rounding) is spread over
    // the luma pixels once, then used for its two luma rows.
    int width = dx.end - dx.start;
    int32_t *term = malloc(sizeof(int32_t) * (size_t)width);
    if (!term) return;
    const int32_t base = m->y_out * 65536 + 32768 - m->y_gain * m->y_in;
    for (int y = dy.start; y < dy.end; y++) {
        if (y == dy.start || (y & 1) == 0) {
            const uint8_t *u = p[1] + (long)(y >> 1) * stride[1], *v = p[2] + (long)(y >> 1) * stride[2];
            for (int i = 0; i < width; i++) {
                int c = (dx.start + i) >> 1;
                term[i] = base + m->y_from_u * (u[c] - 128) + m->y_from_v * (v[c] - 128);
            }
        }
        uint8_t *row = p[0] + (long)y * stride[0] + dx.start;
        for (int i = 0; i < width; i++) row[i] = clamp((m->y_gain * row[i] + term[i]) >> 16);
    }
    free(term);
    for (int y = cy.start; y < cy.end; y++) {
        uint8_t *restrict u = p[1] + (long)y * stride[1], *restrict v = p[2] + (long)y * stride[2];
        for (int x = cx.start; x < cx.end; x++) {
            int32_t cu = u[x] - 128, cv = v[x] - 128;
            u[x] = clamp(((m->uu * cu + m->uv * cv + 32768) >> 16) + 128);
            v[x] = clamp(((m->vu * cu + m->vv * cv + 32768) >> 16) + 128);
        }
    }
}
