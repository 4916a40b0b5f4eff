#include "BilinearPlane.h"

#include <libyuv/planar_functions.h>
#include <stdlib.h>
#include <string.h>

// Bilinear scaling of one plane into an 8-bit one, centre-aligned like libyuv's (source
// position (x + 0.5) * ratio - 0.5), in two passes per output row: the two source rows it
// falls between are interpolated into a padded 8-bit row (libyuv's InterpolateRow, AVX2; for
// 10- to 16-bit samples a loop that narrows them in the same step), then that row is
// filtered horizontally. The horizontal filter is where libyuv spends its time (one
// output pixel at a time, ScaleFilterCols, or plain C when it point-samples at odd ratios);
// here a table made once per call gives, for each run of outputs, where its source pixels
// start, a byte shuffle that lays out each output's two source pixels side by side, and
// their weights in 1/64: one AVX2 shuffle and one multiply-add then make two runs. A run's
// source pixels must fit in 16 bytes: runs of 8 outputs when shrinking by at most 2x, of 4
// up to 4x, of 2 up to 8x; larger shrinks are left to the caller.

/// Row `top` and the one below it (or `top` again at the bottom) blended by `fraction`/256
/// into the 8-bit `row`: libyuv's InterpolateRow for 8-bit samples; for deeper ones, each
/// sample narrowed to 8 bits in the same step, rounded.
static void blend_rows(const uint8_t *src, int src_stride, int depth, int src_width, int src_height, int top, int fraction, uint8_t *row) {
    const uint8_t *upper = src + (long)top * src_stride;
    const uint8_t *lower = top + 1 < src_height ? upper + src_stride : upper;
    if (depth <= 8) {
        InterpolatePlane(upper, 0, lower, 0, row, 0, src_width, 1, fraction);
        return;
    }
    const uint16_t *a = (const uint16_t *)upper, *b = (const uint16_t *)lower;
    uint32_t rounding = 1u << (depth - 1), top_weight = 256 - (uint32_t)fraction;
    for (int x = 0; x < src_width; x++) {
        uint32_t value = (a[x] * top_weight + b[x] * (uint32_t)fraction + rounding) >> depth;
        row[x] = (uint8_t)(value > 255 ? 255 : value);
    }
}

void arena_narrow_plane(const uint8_t *src, int src_stride, int depth, int width, int height, uint8_t *dst, int dst_stride) {
    for (int y = 0; y < height; y++) blend_rows(src, src_stride, depth, width, height, y, 0, dst + (long)y * dst_stride);
}

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

enum { PAD = 32 };

/// The taps of every output pixel of a row, in runs of `run` (8, 4 or 2) outputs.
typedef struct {
    int run, runs;
    int32_t *base;    // first source pixel of each run
    uint8_t *shuffle; // per run, 16 bytes: each output's left and right source pixel from base (0x80: none)
    uint8_t *weights; // per run, 16 bytes: each output's left and right weight, summing to 64
} taps;

/// Fills `t` for `src_width` -> `dst_width`; -1 if a run spans more than 16 source pixels.
static int make_taps(taps *t, int src_width, int dst_width) {
    double ratio = (double)src_width / dst_width;
    for (int i = 0; i < t->runs * 16; i++) t->shuffle[i] = 0x80, t->weights[i] = 0;
    for (int x = 0; x < dst_width; x++) {
        int run = x / t->run, k = x % t->run;
        double at = (x + 0.5) * ratio - 0.5;
        if (at < 0) at = 0;
        if (at > src_width - 1) at = src_width - 1;
        int left = (int)at, weight = (int)((at - left) * 64 + 0.5);
        if (weight == 64) left += 1, weight = 0;
        if (k == 0) t->base[run] = left;
        int offset = left - t->base[run];
        if (offset < 0 || offset > 14) return -1;
        t->shuffle[run * 16 + 2 * k] = (uint8_t)offset;
        t->shuffle[run * 16 + 2 * k + 1] = (uint8_t)(offset + 1);
        t->weights[run * 16 + 2 * k] = (uint8_t)(64 - weight);
        t->weights[run * 16 + 2 * k + 1] = (uint8_t)weight;
    }
    return 0;
}

/// Outputs [from, to) of a row from a padded source row, one at a time (a row's tail).
static void filter_row_scalar(const uint8_t *row, const taps *t, uint8_t *dst, int from, int to) {
    for (int x = from; x < to; x++) {
        int entry = (x / t->run) * 16 + 2 * (x % t->run);
        const uint8_t *at = row + t->base[x / t->run];
        dst[x] = (uint8_t)((at[t->shuffle[entry]] * t->weights[entry] + at[t->shuffle[entry + 1]] * t->weights[entry + 1] + 32) >> 6);
    }
}

/// One output row, two runs at a time.
__attribute__((target("avx2"))) static void filter_row_avx2(const uint8_t *row, const taps *t, uint8_t *dst, int width) {
    const __m256i rounding = _mm256_set1_epi16(32);
    const __m256i firsts = _mm256_setr_epi32(0, 4, 0, 0, 0, 0, 0, 0);  // each lane's first 4 bytes
    int x = 0, step = 2 * t->run;
    for (; x + step <= width; x += step) {
        int run = x / t->run;
        __m256i pixels = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(row + t->base[run]))),
                                                 _mm_loadu_si128((const __m128i *)(row + t->base[run + 1])), 1);
        __m256i pairs = _mm256_shuffle_epi8(pixels, _mm256_loadu_si256((const __m256i *)(t->shuffle + run * 16)));
        __m256i sums = _mm256_maddubs_epi16(pairs, _mm256_loadu_si256((const __m256i *)(t->weights + run * 16)));
        __m256i values = _mm256_srli_epi16(_mm256_add_epi16(sums, rounding), 6);
        __m256i packed = _mm256_packus_epi16(values, values);
        if (t->run == 8) {
            _mm_storeu_si128((__m128i *)(dst + x), _mm256_castsi256_si128(_mm256_permute4x64_epi64(packed, 0xD8)));
        } else if (t->run == 4) {
            _mm_storel_epi64((__m128i *)(dst + x), _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(packed, firsts)));
        } else {
            uint32_t pairs_out = (uint32_t)_mm256_extract_epi16(packed, 0) | (uint32_t)_mm256_extract_epi16(packed, 8) << 16;
            memcpy(dst + x, &pairs_out, 4);
        }
    }
    filter_row_scalar(row, t, dst, x, width);
}

/// Asks for the two source rows around `at` (two output rows ahead) while this row is made:
/// decoded frames come from memory, not cache, and the rows a shrink skips break the hardware
/// prefetcher's stream. A 1080x1080 -> 360x360 cell from 16 frames in turn: 0.30-0.35 -> 0.18-0.25 ms.
static void prefetch_rows(const uint8_t *src, int src_stride, int row_bytes, int src_height, double at) {
    int top = at < 0 ? 0 : (int)at;
    if (top + 1 >= src_height) return;
    const uint8_t *row = src + (long)top * src_stride;
    for (int x = 0; x < row_bytes; x += 64) {
        __builtin_prefetch(row + x);
        __builtin_prefetch(row + src_stride + x);
    }
}

int arena_bilinear_plane(const uint8_t *src, int src_stride, int depth, int src_width, int src_height, uint8_t *dst, int dst_stride,
                         int dst_width, int dst_height) {
    if (!__builtin_cpu_supports("avx2")) return -1;
    if (depth < 8 || depth > 16) return -1;
    if (src_width < 2 || src_height < 1 || dst_width < 1 || dst_height < 1 || src_width > 8 * dst_width) return -1;
    taps t = {.run = src_width <= 2 * dst_width ? 8 : src_width <= 4 * dst_width ? 4 : 2};
    t.runs = (dst_width + t.run - 1) / t.run;
    // One allocation: bases, shuffles, weights, then the padded row (reads reach 16 bytes past a base).
    size_t tables = (size_t)t.runs * (sizeof(int32_t) + 32);
    uint8_t *memory = malloc(tables + (size_t)src_width + PAD);
    if (!memory) return -1;
    t.base = (int32_t *)memory;
    t.shuffle = memory + (size_t)t.runs * sizeof(int32_t);
    t.weights = t.shuffle + (size_t)t.runs * 16;
    uint8_t *row = memory + tables;
    if (make_taps(&t, src_width, dst_width)) {
        free(memory);
        return -1;
    }
    for (int i = src_width; i < src_width + PAD; i++) row[i] = 0;
    int row_bytes = depth > 8 ? 2 * src_width : src_width;
    double ratio = (double)src_height / dst_height;
    for (int y = 0; y < dst_height; y++) {
        double at = (y + 0.5) * ratio - 0.5;
        if (at < 0) at = 0;
        if (at > src_height - 1) at = src_height - 1;
        int top = (int)at, fraction = (int)((at - top) * 256 + 0.5);
        if (fraction == 256) top += 1, fraction = 0;
        prefetch_rows(src, src_stride, row_bytes, src_height, (y + 2.5) * ratio - 0.5);
        blend_rows(src, src_stride, depth, src_width, src_height, top, fraction, row);
        filter_row_avx2(row, &t, dst + (long)y * dst_stride, dst_width);
    }
    free(memory);
    return 0;
}

#else

int arena_bilinear_plane(const uint8_t *src, int src_stride, int depth, int src_width, int src_height, uint8_t *dst, int dst_stride,
                         int dst_width, int dst_height) {
    (void)src, (void)src_stride, (void)depth, (void)src_width, (void)src_height, (void)dst, (void)dst_stride, (void)dst_width, (void)dst_height;
    return -1;
}

#endif
